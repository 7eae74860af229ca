package io.qwenaudio.app;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.events.Base64Data;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.PayloadException;
import io.qwenaudio.events.Wire;
import io.qwenaudio.functions.adapt.AdaptStageBean;
import io.qwenaudio.functions.encode.EncodeStageBean;
import io.qwenaudio.functions.generate.GenerateStageBean;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.generate.InvalidGenerationException;
import io.qwenaudio.serving.ServingConfig;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.serving.StageMetrics;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.stages.Failures;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.stages.StageException;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.context.ManagedExecutor;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The OpenAI-compatible chat API: {@code POST /v1/chat/completions} with {@code messages} whose content parts are
 * text and {@code {"type": "input_audio", "input_audio": {"data": <base64>, "format": "wav"}}}, whole or streamed
 * as server-sent events in OpenAI's chunk format ({@code stream: true}), with token {@code usage}. Extra fields
 * this server understands: {@code top_k}, {@code repetition_penalty}, {@code ignore_eos} (as vLLM) and
 * {@code environment} (domain adapter).
 * Errors are OpenAI-style: {@code {"error": {"message", "type", "param", "code"}}}.
 *
 * <p>A Vert.x route rather than a JAX-RS resource so one endpoint can answer a JSON error, a JSON completion or
 * an event stream, and notice a client that goes away: generation then stops and its KV cache is freed.
 */
@ApplicationScoped
public class OpenAiApi {

    static final Set<String> FORMATS = Set.of("wav", "mp3", "flac");

    @Inject
    EncodeStageBean encode;

    @Inject
    AdaptStageBean adapt;

    @Inject
    GenerateStageBean generate;

    @Inject
    ServingConfig config;

    @Inject
    StageMetrics metrics;

    @Inject
    ObjectMapper json;

    /** Quarkus' managed worker pool (bounded): requests block there on the encoder and on a generation slot. */
    @Inject
    ManagedExecutor workers;

    @Inject
    ServingSetup setup;

    @Inject
    EventChain chain;

    private String modelName;
    private long created;
    private ObjectReader requests;

    void install(@Observes Router router) {
        modelName = config.openai().modelName();
        created = modelCreated();
        requests = json.readerFor(ChatRequest.class).without(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .with(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        router.post("/v1/chat/completions").order(-10)
                .handler(BodyHandler.create(false).setBodyLimit(config.http().maxBodySize().asLongValue()))
                .handler(this::chat);
        router.get("/v1/models").order(-10).handler(this::models);
    }

    /** When the served model was made: the modification time of its manifest (epoch seconds), else now. */
    private long modelCreated() {
        try {
            return Files.getLastModifiedTime(setup.artifactsDir().resolve(Manifest.FILE)).toMillis() / 1000;
        } catch (IOException | RuntimeException e) {
            return System.currentTimeMillis() / 1000;
        }
    }

    /** The model id clients pass as {@code model}. */
    public String modelName() {
        return modelName;
    }

    private void models(RoutingContext ctx) {
        ObjectNode m = json.createObjectNode().put("id", modelName).put("object", "model").put("created", created)
                .put("owned_by", "qwen-audio");
        ObjectNode list = json.createObjectNode().put("object", "list");
        list.putArray("data").add(m);
        ctx.response().putHeader("content-type", "application/json").end(list.toString());
    }

    /** A parsed request. */
    private record Chat(List<ChatMessage> messages, List<byte[]> clips, GenerationOptions options, boolean stream,
                        boolean includeUsage, String environment, Wire.GenerateParams params) {
    }

    private void chat(RoutingContext ctx) {
        HttpServerResponse res = ctx.response();
        AtomicBoolean gone = new AtomicBoolean();
        res.closeHandler(v -> gone.set(true));
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        Chat chat;
        try {
            chat = parse(ctx.body().buffer());
        } catch (RuntimeException e) {
            error(res, e, Failures.describe("openai", e, null, null));
            return;
        }
        if (chain.gateway()) {
            workers.submit(() -> gatewayChat(res, id, created, chat));
            return;
        }
        workers.submit(() -> {
            long t0 = System.nanoTime();
            try {
                List<FloatTensor> clips = new ArrayList<>();
                AnswerTimings timings = new AnswerTimings();
                for (byte[] audio : chat.clips()) {
                    EncodeStage.Encoded e = encode.get().encodeAudio(audio);
                    timings.encoded(e);
                    long ta = System.nanoTime();
                    clips.add(adapt.get().adapt(chat.environment(), e.hidden()).hidden()); // [N_k, d]
                    timings.adaptedSince(ta);
                }
                if (chat.stream()) {
                    stream(res, gone, id, created, chat, clips, timings);
                } else {
                    GenerateStage.Result r = generate.slots().run(() -> generate.get().generate(clips, chat.messages(), null,
                            chat.options(), null));
                    Generation g = r.generation();
                    ObjectNode c = completion(id, created, g.text(), finishReason(g), usage(g));
                    c.set("timings", timings.json(r));
                    res.putHeader("content-type", "application/json").end(c.toString());
                }
                metrics.count("openai", "ok");
            } catch (Disconnected e) {
                // counted as cancelled; the connection is gone
            } catch (RuntimeException | Error e) {
                Wire.Failure f = Failures.describe("openai", e, id, null);
                metrics.count("openai", f.error());
                if (!res.headWritten()) error(res, e, f);
                else if (!res.ended()) res.end(sse(errorBody(f)) + "data: [DONE]\n\n");
            } finally {
                metrics.time("openai", Duration.ofNanos(System.nanoTime() - t0));
            }
        });
    }

    /**
     * Gateway mode: the chat goes through the stage Services as one {@code audio.received} event (the clip, the
     * conversation and the options) and the {@code text.generated} that comes back is the answer. A RequestReply
     * returns one reply event, so {@code stream: true} is answered in the chunk format with the whole text in one
     * content chunk.
     */
    private void gatewayChat(HttpServerResponse res, String id, long created, Chat chat) {
        long t0 = System.nanoTime();
        EventChain.AudioField audio = chain.audio(chat.clips().get(0));
        try {
            Wire.EncodeRequest request = new Wire.EncodeRequest(audio.base64(), audio.ref(), chat.environment(), id, chat.params());
            CloudEvent<Object> out = chain.run(InProcessBus.event(EventTypes.AUDIO_RECEIVED, id, chat.environment(), request));
            if (out.data() instanceof Wire.Failure f) {
                metrics.count("openai", f.error());
                error(res, Errors.retryAfterSeconds(f), f);
                return;
            }
            Wire.TextGenerated t = (Wire.TextGenerated) out.data();
            ObjectNode usage = usage(t.usage().promptTokens(), t.usage().completionTokens());
            String finish = "length".equals(t.finishReason()) ? "length" : "stop";
            ObjectNode timings = gatewayTimings(t);
            if (chat.stream()) {
                ObjectNode first = chunk(id, created);
                ((ObjectNode) first.withArray("choices").get(0).get("delta")).put("role", "assistant").put("content", "");
                ObjectNode text = chunk(id, created);
                ((ObjectNode) text.withArray("choices").get(0).get("delta")).put("content", t.text());
                StringBuilder sse = new StringBuilder(sse(first)).append(sse(text));
                sse.append(sse(last(id, created, finish, timings)));
                if (chat.includeUsage()) sse.append(sse(usageChunk(id, created, usage)));
                res.setChunked(true).putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-cache")
                        .end(sse.append("data: [DONE]\n\n").toString());
            } else {
                ObjectNode c = completion(id, created, t.text(), finish, usage);
                c.set("timings", timings);
                res.putHeader("content-type", "application/json").end(c.toString());
            }
            metrics.count("openai", "ok");
        } catch (RuntimeException | Error e) {
            Wire.Failure f = Failures.describe("openai", e, id, null);
            metrics.count("openai", f.error());
            if (!res.headWritten()) error(res, e, f);
        } finally {
            chain.release(audio);
            metrics.time("openai", Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /** The stages' timings of a chain answer, in the keys of the one-process answer's {@code timings}. */
    private ObjectNode gatewayTimings(Wire.TextGenerated t) {
        ObjectNode o = json.valueToTree(t.timings() == null ? Wire.Timings.none() : t.timings());
        double decodeMs = o.path("generate_ms").asDouble() - o.path("prefill_ms").asDouble();
        int tokens = t.usage() == null ? 0 : t.usage().completionTokens();
        if (decodeMs > 0 && tokens > 1) o.put("decode_tokens_per_second", Math.round((tokens - 1) / decodeMs * 1e5) / 100.0);
        return o;
    }

    private void stream(HttpServerResponse res, AtomicBoolean gone, String id, long created, Chat chat, List<FloatTensor> clips,
                        AnswerTimings timings) {
        GenerateStage.Result r = generate.slots().run(() -> {
            res.setChunked(true).putHeader("content-type", "text/event-stream").putHeader("cache-control", "no-cache");
            ObjectNode first = chunk(id, created);
            ((ObjectNode) first.withArray("choices").get(0).get("delta")).put("role", "assistant").put("content", "");
            res.write(sse(first));
            return generate.get().generate(clips, chat.messages(), null, chat.options(), (tokenId, text) -> {
                if (gone.get()) return false; // client disconnected: stop and free the KV cache
                if (!text.isEmpty()) {
                    ObjectNode c = chunk(id, created);
                    ((ObjectNode) c.withArray("choices").get(0).get("delta")).put("content", text);
                    res.write(sse(c));
                }
                return true;
            });
        });
        if (gone.get() || r.generation().finishReason() == Generation.FinishReason.CANCELLED) {
            metrics.count("openai", "cancelled");
            if (!res.ended()) res.reset();
            throw new Disconnected();
        }
        StringBuilder tail = new StringBuilder(sse(last(id, created, finishReason(r.generation()), timings.json(r))));
        if (chat.includeUsage()) tail.append(sse(usageChunk(id, created, usage(r.generation()))));
        res.end(tail.append("data: [DONE]\n\n").toString());
    }

    /** The last chunk of a stream: the finish reason and the timings. */
    private ObjectNode last(String id, long created, String finishReason, ObjectNode timings) {
        ObjectNode last = chunk(id, created);
        ((ObjectNode) last.withArray("choices").get(0)).put("finish_reason", finishReason);
        last.set("timings", timings);
        return last;
    }

    /** The chunk {@code stream_options.include_usage} asks for: no choices, the usage. */
    private ObjectNode usageChunk(String id, long created, ObjectNode usage) {
        ObjectNode u = json.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                .put("model", modelName);
        u.putArray("choices");
        u.set("usage", usage);
        return u;
    }

    private ObjectNode chunk(String id, long created) {
        ObjectNode c = json.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                .put("model", modelName);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        choice.putObject("delta");
        choice.putNull("finish_reason");
        return c;
    }

    private ObjectNode completion(String id, long created, String text, String finishReason, ObjectNode usage) {
        ObjectNode c = json.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created)
                .put("model", modelName);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", text);
        choice.put("finish_reason", finishReason);
        c.set("usage", usage);
        return c;
    }

    private ObjectNode usage(Generation g) {
        return usage(g.promptTokens(), g.generatedTokens());
    }

    private ObjectNode usage(int prompt, int completion) {
        return json.createObjectNode().put("prompt_tokens", prompt).put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
    }

    private static String finishReason(Generation g) {
        return g.finishReason() == Generation.FinishReason.LENGTH ? "length" : "stop";
    }

    private static String sse(JsonNode n) {
        return "data: " + n + "\n\n";
    }

    /** The client went away mid-stream; nothing more to send. */
    private static final class Disconnected extends RuntimeException {
        Disconnected() {
            super("client disconnected", null, false, false);
        }
    }

    // ---- request parsing: every problem is a 400 naming the field ----

    /** OpenAI's chat completion request, as far as this server reads it (other fields are ignored, as OpenAI's are optional). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ChatRequest(String model, List<Message> messages, Integer n, Integer maxTokens, Integer maxCompletionTokens,
                       Double temperature, Double topP, Integer topK, Double repetitionPenalty, Long seed, JsonNode stop,
                       Boolean stream, StreamOptions streamOptions, Boolean ignoreEos, String environment) {
    }

    /** A message: {@code content} is a string or an array of {@link Part}s. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Message(String role, JsonNode content) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Part(String type, String text, InputAudio inputAudio) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record InputAudio(String data, String format) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonIgnoreProperties(ignoreUnknown = true)
    record StreamOptions(Boolean includeUsage) {
    }

    private Chat parse(Buffer body) {
        if (body == null || body.length() == 0) throw bad("the body is empty; send an OpenAI chat completion request", "body");
        ChatRequest req;
        try {
            req = requests.readValue(body.getBytes());
        } catch (JsonProcessingException e) {
            String field = jsonField(e);
            throw bad((field == null ? "the body is not valid JSON: " : "'" + field + "' has the wrong type or value: ")
                    + Failures.firstLine(e.getOriginalMessage()), field);
        } catch (IOException e) {
            throw bad("the body cannot be read: " + e.getMessage(), null);
        }
        if (req == null) throw bad("the body must be a JSON object with 'model' and 'messages'", null);
        if (req.model() != null && !req.model().equals(modelName)) {
            throw new StageException(404, "model_not_found", "The model '" + req.model() + "' does not exist; this server "
                    + "serves '" + modelName + "' (see GET /v1/models)", "model");
        }
        if (req.n() != null && req.n() != 1) throw bad("only n=1 is supported, got " + req.n(), "n");
        if (req.messages() == null || req.messages().isEmpty()) {
            throw bad("'messages' must be a non-empty array of {\"role\", \"content\"}", "messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        List<byte[]> clips = new ArrayList<>();
        boolean anyContent = false;
        for (int i = 0; i < req.messages().size(); i++) {
            Message m = req.messages().get(i);
            String param = "messages[" + i + "]";
            if (m == null) throw bad(param + " must be an object {\"role\", \"content\"}", param);
            String role = m.role() == null ? "" : m.role();
            if (!ChatMessage.ROLES.contains(role)) {
                throw bad(param + ".role '" + role + "' is not supported; accepted: system, user, assistant", param + ".role");
            }
            List<ChatMessage.Part> parts = new ArrayList<>();
            JsonNode content = m.content();
            if (content == null || content.isNull()) {
                throw bad(param + ".content is missing", param + ".content");
            } else if (content.isTextual()) {
                parts.add(ChatMessage.text(content.asText()));
                anyContent |= !content.asText().isEmpty();
            } else if (content.isArray()) {
                for (int k = 0; k < content.size(); k++) {
                    String pp = param + ".content[" + k + "]";
                    Part part = part(content.get(k), pp);
                    String type = part.type() == null ? "" : part.type();
                    if (type.equals("text")) {
                        if (part.text() == null) throw bad(pp + ".text is missing", pp + ".text");
                        parts.add(ChatMessage.text(part.text()));
                        anyContent |= !part.text().isEmpty();
                    } else if (type.equals("input_audio")) {
                        if (!role.equals("user")) throw bad(pp + ": audio is accepted in user messages only", pp);
                        clips.add(audio(part.inputAudio(), pp + ".input_audio"));
                        parts.add(ChatMessage.audio());
                        anyContent = true;
                    } else {
                        throw bad(pp + ".type '" + type + "' is not supported; accepted: text, input_audio", pp + ".type");
                    }
                }
            } else {
                throw bad(param + ".content must be a string or an array of content parts", param + ".content");
            }
            out.add(new ChatMessage(role, parts));
        }
        if (!anyContent) throw bad("the prompt is empty: give text or audio in 'messages'", "messages");
        int maxClips = config.generate().maxClips();
        if (clips.size() > maxClips) {
            throw bad(clips.size() + " audio clips in one request; at most " + maxClips + " are accepted "
                    + "(qwen-audio.generate.max-clips)", "messages");
        }
        String maxTokensName = req.maxCompletionTokens() != null ? "max_completion_tokens" : "max_tokens";
        Integer maxTokens = req.maxCompletionTokens() != null ? req.maxCompletionTokens() : req.maxTokens();
        Wire.GenerateParams.Builder params = Wire.GenerateParams.builder().maxNewTokens(maxTokens).temperature(req.temperature())
                .topK(req.topK()).topP(req.topP()).repetitionPenalty(req.repetitionPenalty()).seed(req.seed())
                .stop(stop(req.stop())).ignoreEos(req.ignoreEos());
        boolean usage = req.streamOptions() != null && Boolean.TRUE.equals(req.streamOptions().includeUsage());
        if (chain.gateway()) {
            // the options are checked by the generate Service against its model, and come back as its failure
            if (clips.size() != 1) {
                throw bad("the gateway sends a chat through the stage Services with exactly one input_audio part (the chain "
                        + "starts at the audio encoder); this request has " + clips.size(), "messages");
            }
            Wire.GenerateParams p = params.messages(wireMessages(out)).build(); // the conversation travels with the event
            return new Chat(out, clips, null, Boolean.TRUE.equals(req.stream()), usage, req.environment(), p);
        }
        Wire.GenerateParams p = params.build();
        GenerationOptions o;
        try {
            o = generate.get().options(p);
        } catch (InvalidGenerationException e) {
            String field = "max_new_tokens".equals(e.field()) ? maxTokensName : e.field();
            String message = e.getMessage().replace("max_new_tokens", maxTokensName);
            throw new BadParam(message, field, e);
        }
        return new Chat(out, clips, o, Boolean.TRUE.equals(req.stream()), usage, req.environment(), p);
    }

    private Part part(JsonNode node, String param) {
        if (node == null || !node.isObject()) throw bad(param + " must be an object {\"type\", ...}", param);
        try {
            return json.treeToValue(node, Part.class);
        } catch (JsonProcessingException e) {
            String f = jsonField(e);
            throw bad(param + (f == null ? "" : "." + f) + " has the wrong type: " + Failures.firstLine(e.getOriginalMessage()),
                    param + (f == null ? "" : "." + f));
        }
    }

    private static List<String> stop(JsonNode s) {
        if (s == null || s.isNull()) return null;
        List<String> stop = new ArrayList<>();
        if (s.isTextual()) {
            stop.add(s.asText());
        } else if (s.isArray()) {
            for (JsonNode x : s) {
                if (!x.isTextual()) throw bad("'stop' must be a string or an array of strings, got " + x.getNodeType() + " in it", "stop");
                stop.add(x.asText());
            }
        } else {
            throw bad("'stop' must be a string or an array of strings", "stop");
        }
        return stop;
    }

    /** A conversation as {@link Wire.GenerateParams#messages()} carries it through the event chain. */
    private static List<Wire.Message> wireMessages(List<ChatMessage> messages) {
        return messages.stream().map(m -> new Wire.Message(m.role(), m.parts().stream()
                .map(x -> x instanceof ChatMessage.Text t ? Wire.Part.text(t.text()) : Wire.Part.audio()).toList())).toList();
    }

    /** The JSON path of a binding error ({@code messages[0].content}), or the field the parser was at, or null. */
    static String jsonField(JsonProcessingException e) {
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            return Failures.jsonPath(m);
        }
        if (e instanceof InputCoercionException && e.getProcessor() instanceof JsonParser p) { // a number out of range
            try {
                return p.currentName();
            } catch (IOException | RuntimeException ignored) {
                return null;
            }
        }
        return null;
    }

    private byte[] audio(InputAudio a, String param) {
        if (a == null) throw bad(param + " is missing: give {\"data\": \"<base64>\", \"format\": \"wav\"}", param);
        String format = a.format() == null ? "" : a.format().toLowerCase(Locale.ROOT);
        if (!FORMATS.contains(format)) {
            throw bad(param + ".format '" + (a.format() == null ? "" : a.format()) + "' is not supported; accepted: wav, mp3, flac",
                    param + ".format");
        }
        if (a.data() == null || a.data().isEmpty()) throw bad(param + ".data is missing: give the audio file as base64", param + ".data");
        try {
            return Base64Data.decode(param + ".data", a.data());
        } catch (PayloadException e) {
            throw bad(e.getMessage(), param + ".data");
        }
    }

    /** A 400 whose {@code param} names the field. */
    static StageException bad(String message, String param) {
        return new BadParam(message, param, null);
    }

    private static final class BadParam extends StageException {
        final String param;

        BadParam(String message, String param, Throwable cause) {
            super(400, "invalid_request_error", message, param);
            this.param = param;
            if (cause != null) initCause(cause);
        }
    }

    // ---- errors ----

    private void error(HttpServerResponse res, Throwable e, Wire.Failure f) {
        error(res, Failures.retryAfterSeconds(e), f);
    }

    private void error(HttpServerResponse res, int retryAfterSeconds, Wire.Failure f) {
        if (retryAfterSeconds > 0) res.putHeader("Retry-After", String.valueOf(retryAfterSeconds));
        res.setStatusCode(f.status()).putHeader("content-type", "application/json").end(errorBody(f).toString());
    }

    /** OpenAI's error shape; {@code param} names the request field at fault, in OpenAI's names. */
    private ObjectNode errorBody(Wire.Failure f) {
        ObjectNode err = json.createObjectNode();
        String message = f.message();
        String param = f.param();
        if ("max_new_tokens".equals(param)) { // the generation's name for OpenAI's max_tokens
            param = "max_tokens";
            message = message.replace("max_new_tokens", "max_tokens");
        }
        ObjectNode o = err.putObject("error").put("message", message)
                .put("type", f.status() == 429 ? "rate_limit_error" : f.status() >= 500 ? "server_error" : "invalid_request_error");
        if (param != null) o.put("param", param);
        else o.putNull("param");
        o.put("code", f.error());
        return err;
    }
}
