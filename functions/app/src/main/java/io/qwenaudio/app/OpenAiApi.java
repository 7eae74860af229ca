package io.qwenaudio.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.events.Wire;
import io.qwenaudio.functions.adapt.AdaptStageBean;
import io.qwenaudio.functions.encode.EncodeStageBean;
import io.qwenaudio.functions.generate.GenerateStageBean;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.serving.ServingConfig;
import io.qwenaudio.serving.StageMetrics;
import io.qwenaudio.events.PayloadException;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.stages.Failures;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.stages.StageException;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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

    private String modelName;

    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "openai-request");
        t.setDaemon(true);
        return t;
    });

    void install(@Observes Router router) {
        modelName = config.openai().modelName();
        router.post("/v1/chat/completions").order(-10)
                .handler(BodyHandler.create().setBodyLimit(config.http().maxBodySize().asLongValue()))
                .handler(this::chat);
        router.get("/v1/models").order(-10).handler(this::models);
    }

    /** The model id clients pass as {@code model}. */
    public String modelName() {
        return modelName;
    }

    private void models(RoutingContext ctx) {
        ObjectNode m = json.createObjectNode().put("id", modelName).put("object", "model").put("created", 0)
                .put("owned_by", "qwen-audio");
        ObjectNode list = json.createObjectNode().put("object", "list");
        list.putArray("data").add(m);
        ctx.response().putHeader("content-type", "application/json").end(list.toString());
    }

    /** A parsed request. */
    private record Chat(List<ChatMessage> messages, List<byte[]> clips, GenerationOptions options, boolean stream,
                        boolean includeUsage, String environment) {
    }

    private void chat(RoutingContext ctx) {
        HttpServerResponse res = ctx.response();
        AtomicBoolean gone = new AtomicBoolean();
        res.closeHandler(v -> gone.set(true));
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        Chat chat;
        try {
            chat = parse(ctx.body().asString());
        } catch (RuntimeException e) {
            error(res, e);
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
                    ObjectNode c = completion(id, created, r.generation());
                    c.set("timings", timings.json(r));
                    res.putHeader("content-type", "application/json").end(c.toString());
                }
                metrics.count("openai", "ok");
            } catch (Disconnected e) {
                // counted as cancelled; the connection is gone
            } catch (RuntimeException e) {
                metrics.count("openai", Failures.describe("generate", e, id, null).error());
                if (!res.headWritten()) error(res, e);
                else if (!res.ended()) res.end(sse(errorBody(e)) + "data: [DONE]\n\n");
            } finally {
                metrics.time("openai", Duration.ofNanos(System.nanoTime() - t0));
            }
        });
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
        ObjectNode last = chunk(id, created);
        ((ObjectNode) last.withArray("choices").get(0)).put("finish_reason", finishReason(r.generation()));
        last.set("timings", timings.json(r));
        StringBuilder tail = new StringBuilder(sse(last));
        if (chat.includeUsage()) {
            ObjectNode u = json.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                    .put("model", modelName);
            u.putArray("choices");
            u.set("usage", usage(r.generation()));
            tail.append(sse(u));
        }
        res.end(tail.append("data: [DONE]\n\n").toString());
    }

    private ObjectNode chunk(String id, long created) {
        ObjectNode c = json.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                .put("model", modelName);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        choice.putObject("delta");
        choice.putNull("finish_reason");
        return c;
    }

    private ObjectNode completion(String id, long created, Generation g) {
        ObjectNode c = json.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created)
                .put("model", modelName);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", g.text());
        choice.put("finish_reason", finishReason(g));
        c.set("usage", usage(g));
        return c;
    }

    private ObjectNode usage(Generation g) {
        return json.createObjectNode().put("prompt_tokens", g.promptTokens()).put("completion_tokens", g.generatedTokens())
                .put("total_tokens", g.promptTokens() + g.generatedTokens());
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

    private Chat parse(String body) {
        JsonNode req;
        try {
            req = json.readTree(body == null ? "" : body);
        } catch (Exception e) {
            throw bad("the body is not valid JSON: " + Failures.firstLine(e.getMessage()), null);
        }
        if (req == null || !req.isObject()) throw bad("the body must be a JSON object with 'model' and 'messages'", null);
        if (req.hasNonNull("model") && !req.get("model").asText().equals(modelName)) {
            throw new StageException(404, "model_not_found", "The model '" + req.get("model").asText()
                    + "' does not exist; this server serves '" + modelName + "' (see GET /v1/models)");
        }
        if (req.hasNonNull("n") && req.get("n").asInt() != 1) throw bad("only n=1 is supported, got " + req.get("n"), "n");
        JsonNode messages = req.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw bad("'messages' must be a non-empty array of {\"role\", \"content\"}", "messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        List<byte[]> clips = new ArrayList<>();
        boolean anyContent = false;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String param = "messages[" + i + "]";
            String role = m.path("role").asText("");
            if (!Set.of("system", "user", "assistant").contains(role)) {
                throw bad(param + ".role '" + role + "' is not supported; accepted: system, user, assistant", param + ".role");
            }
            List<ChatMessage.Part> parts = new ArrayList<>();
            JsonNode content = m.get("content");
            if (content == null || content.isNull()) {
                throw bad(param + ".content is missing", param + ".content");
            } else if (content.isTextual()) {
                parts.add(ChatMessage.text(content.asText()));
                anyContent |= !content.asText().isEmpty();
            } else if (content.isArray()) {
                for (int k = 0; k < content.size(); k++) {
                    JsonNode part = content.get(k);
                    String pp = param + ".content[" + k + "]";
                    String type = part.path("type").asText("");
                    if (type.equals("text")) {
                        parts.add(ChatMessage.text(part.path("text").asText("")));
                        anyContent |= !part.path("text").asText("").isEmpty();
                    } else if (type.equals("input_audio")) {
                        if (!role.equals("user")) throw bad(pp + ": audio is accepted in user messages only", pp);
                        clips.add(audio(part.path("input_audio"), pp + ".input_audio"));
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
        Integer maxTokens = req.hasNonNull("max_completion_tokens") ? Integer.valueOf(req.get("max_completion_tokens").asInt())
                : req.hasNonNull("max_tokens") ? Integer.valueOf(req.get("max_tokens").asInt()) : null;
        List<String> stop = null;
        JsonNode s = req.get("stop");
        if (s != null && !s.isNull()) {
            stop = new ArrayList<>();
            if (s.isTextual()) stop.add(s.asText());
            else if (s.isArray()) for (JsonNode x : s) stop.add(x.asText());
            else throw bad("'stop' must be a string or an array of strings", "stop");
        }
        Wire.GenerateParams p = new Wire.GenerateParams(null, null, null, maxTokens, null,
                num(req, "temperature"), req.hasNonNull("top_k") ? Integer.valueOf(req.get("top_k").asInt()) : null,
                num(req, "top_p"), num(req, "repetition_penalty"),
                req.hasNonNull("seed") ? Long.valueOf(req.get("seed").asLong()) : null, stop);
        GenerationOptions o = generate.get().options(p);
        if (req.path("ignore_eos").asBoolean(false)) o = o.withStopTokenIds(List.of()); // as vLLM: run to max_tokens
        boolean stream = req.path("stream").asBoolean(false);
        boolean usage = req.path("stream_options").path("include_usage").asBoolean(false);
        String env = req.hasNonNull("environment") ? req.get("environment").asText() : null;
        return new Chat(out, clips, o, stream, usage, env);
    }

    private byte[] audio(JsonNode a, String param) {
        String format = a.path("format").asText("").toLowerCase(Locale.ROOT);
        if (!FORMATS.contains(format)) {
            throw bad(param + ".format '" + a.path("format").asText("") + "' is not supported; accepted: wav, mp3, flac",
                    param + ".format");
        }
        String data = a.path("data").asText("");
        if (data.isEmpty()) throw bad(param + ".data is missing: give the audio file as base64", param + ".data");
        try {
            return EncodeStage.base64(param + ".data", data);
        } catch (PayloadException e) {
            throw bad(e.getMessage(), param + ".data");
        }
    }

    private static Double num(JsonNode req, String field) {
        JsonNode n = req.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw bad("'" + field + "' must be a number, got " + n, field);
        return n.asDouble();
    }

    /** A 400 whose {@code param} names the field. */
    static StageException bad(String message, String param) {
        return new BadParam(message, param);
    }

    private static final class BadParam extends StageException {
        final String param;

        BadParam(String message, String param) {
            super(400, "invalid_request_error", message);
            this.param = param;
        }
    }

    // ---- errors ----

    private void error(HttpServerResponse res, Throwable e) {
        Wire.Failure f = Failures.describe("openai", e, null, null);
        int retry = Failures.retryAfterSeconds(e);
        if (retry > 0) res.putHeader("Retry-After", String.valueOf(retry));
        res.setStatusCode(f.status()).putHeader("content-type", "application/json").end(errorBody(e).toString());
    }

    private ObjectNode errorBody(Throwable e) {
        Wire.Failure f = Failures.describe("openai", e, null, null);
        ObjectNode err = json.createObjectNode();
        ObjectNode o = err.putObject("error").put("message", f.message())
                .put("type", f.status() == 429 ? "rate_limit_error" : f.status() >= 500 ? "server_error" : "invalid_request_error");
        Throwable c = e;
        while (c != null && !(c instanceof BadParam)) c = c.getCause();
        if (c instanceof BadParam b && b.param != null) o.put("param", b.param);
        else o.putNull("param");
        o.put("code", f.error());
        return err;
    }
}
