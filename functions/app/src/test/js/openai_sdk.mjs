// Calls the app's OpenAI-compatible API with the official `openai` npm SDK, as a user's program would:
// node openai_sdk.mjs <base-url> <wav-file>  ->  prints {"whole": {...}, "streamed": {...}, "models": [...], "error": {...}}
import OpenAI from "openai";
import { readFileSync } from "node:fs";

const [baseURL, wav] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-not-checked", maxRetries: 0 });
const audio = readFileSync(wav).toString("base64");
const messages = [{
  role: "user",
  content: [
    { type: "input_audio", input_audio: { data: audio, format: "wav" } },
    { type: "text", text: "What does the person say?" },
  ],
}];
const params = { model: "qwen2-audio", messages, max_tokens: 12, temperature: 0, repetition_penalty: 1.0 };

const models = (await client.models.list()).data.map((m) => m.id);
const whole = await client.chat.completions.create(params);

const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
let text = "", finish = null, usage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  for (const c of chunk.choices) {
    text += c.delta?.content ?? "";
    if (c.finish_reason) finish = c.finish_reason;
  }
}

let error = null;
try {
  await client.chat.completions.create({ ...params, temperature: -1 });
} catch (e) {
  error = { status: e.status, type: e.type ?? e.error?.type, param: e.param ?? e.error?.param, message: e.message };
}

console.log(JSON.stringify({
  models,
  whole: { text: whole.choices[0].message.content, finish: whole.choices[0].finish_reason, usage: whole.usage },
  streamed: { text, finish, usage, chunks },
  error,
}));
