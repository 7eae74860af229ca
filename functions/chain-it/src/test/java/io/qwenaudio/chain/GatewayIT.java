package io.qwenaudio.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testtools.ExternalTool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The cloud front door: the app in gateway mode (its Knative Service's env from {@code infra/knative/base}, no model)
 * in front of the three stage processes, wired only by CloudEvents through {@link LocalBroker}, which routes by the
 * manifests' Triggers and serves the manifests' RequestReply as Knative's data plane does (correlation stamped on the
 * request, the reply recognised by the reply extension, the RequestReply's timeout). The same requests go to the
 * one-process app on the same model; the answers must be the same JSON with the same status codes: the official
 * openai SDK, describe (file and JSON), /embed, errors, request ids, audio over the inline limit (claim check through
 * the shared blob directory). A stage killed mid-request gives one clear error (its dead letter, turned into one
 * {@code pipeline.failed} by the gateway), a frozen one one timeout, never two answers. Prints cold starts and the
 * gateway's overhead over the one-process app.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayIT {

    private static final String GATEWAY = StageChain.GATEWAY;
    private static final double BACKOFF_SCALE = Double.parseDouble(System.getProperty("chain.backoff-scale", "0.1"));
    private static final String PROMPT = "What does the person say?";
    private static final int TIMED_RUNS = 5;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> report = new ArrayList<>();
    private StageChain chain;
    private LocalBroker broker;
    private StageProcess gateway;
    private StageProcess app;
    private Map<String, String> gatewayEnv;
    private byte[] speech;
    private Path work;

    @BeforeAll
    void start() throws Exception {
        speech = TinyModel.speechWav("Please call me back after lunch.");
        TinyModel model = TinyModel.get();
        work = StageChain.workDir("gateway");
        chain = new StageChain(model.artifacts, work, Map.of());
        chain.coldStartMillis.forEach((s, ms) -> report.add(String.format(Locale.ROOT, "%-18s cold start to ready %5d ms, "
                + "RSS %6.1f MiB", s, ms, chain.get(s).rssMiB())));

        assertNotNull(chain.routes.requestReply, "the manifests hold no RequestReply on the Broker");
        broker = chain.broker(BACKOFF_SCALE, 1.0);
        gateway = chain.gateway(broker, work);
        gatewayEnv = chain.env.get(GATEWAY);
        assertEquals("gateway", gatewayEnv.get("QWEN_AUDIO_MODE"), "the gateway Service runs the app in gateway mode");
        assertNull(gatewayEnv.get("QWEN_AUDIO_ARTIFACTS_DIR"), "the gateway loads no model");
        long ms = gateway.start();
        report.add(String.format(Locale.ROOT, "%-18s cold start to ready %5d ms, RSS %6.1f MiB (no model)", GATEWAY, ms,
                gateway.rssMiB()));
        app = StageChain.app(model.artifacts, work, Map.of());
        app.start();
    }

    @AfterAll
    void stop() throws IOException {
        if (broker != null) broker.close();
        if (gateway != null) gateway.close();
        if (app != null) app.close();
        if (chain != null) chain.close();
        String text = String.join("\n", report);
        System.out.println("---- gateway report ----\n" + text);
        Files.createDirectories(work);
        Files.writeString(work.resolve("gateway-report.txt"), text + "\n");
    }

    // ---- the same answers as the one-process app ----

    @Test
    @Order(1)
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void theOfficialOpenAiSdkGetsTheSameAnswers() throws Exception {
        ExternalTool.NODE.require();
        Path npm = Path.of("target", "npm-openai").toAbsolutePath();
        Files.createDirectories(npm);
        if (!Files.isDirectory(npm.resolve("node_modules/openai"))) {
            run(npm, 300, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", npm.toString(),
                    "openai@4.104.0");
        }
        Path script = Files.copy(Path.of("../app/src/test/js/openai_sdk.mjs"), npm.resolve("openai_sdk.mjs"),
                StandardCopyOption.REPLACE_EXISTING);
        Path wav = Files.write(npm.resolve("speech.wav"), speech);
        JsonNode viaGateway = json.readTree(run(npm, 180, "node", script.toString(), gateway.uri() + "v1", wav.toString()));
        JsonNode viaApp = json.readTree(run(npm, 180, "node", script.toString(), app.uri() + "v1", wav.toString()));

        assertEquals(viaApp.get("models"), viaGateway.get("models"));
        assertEquals(viaApp.get("whole"), viaGateway.get("whole"), "chat completion: text, finish reason, usage");
        assertEquals(viaApp.at("/streamed/text"), viaGateway.at("/streamed/text"), "streamed text");
        assertEquals(viaApp.at("/streamed/finish"), viaGateway.at("/streamed/finish"));
        assertEquals(viaApp.at("/streamed/usage"), viaGateway.at("/streamed/usage"));
        assertEquals(viaApp.at("/error/status"), viaGateway.at("/error/status"), "temperature -1");
        assertEquals(viaApp.at("/error/type"), viaGateway.at("/error/type"));
        assertEquals(viaApp.at("/error/param"), viaGateway.at("/error/param"));
        assertTrue(viaGateway.at("/error/message").asText().contains("temperature"), viaGateway.at("/error").toString());
        // stream: true through the gateway: role chunk, the whole text in one chunk, finish chunk, usage chunk
        assertEquals(4, viaGateway.at("/streamed/chunks").asInt(), viaGateway.toString());
        report.add(String.format(Locale.ROOT, "openai SDK: same models, completion, streamed text/finish/usage and error (%d %s "
                        + "param=%s) through the gateway as from the app; streamed in %d chunks (app: %d)",
                viaGateway.at("/error/status").asInt(), viaGateway.at("/error/type").asText(),
                viaGateway.at("/error/param").asText(), viaGateway.at("/streamed/chunks").asInt(), viaApp.at("/streamed/chunks").asInt()));
    }

    @Test
    @Order(2)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void describeAnswersAsTheApp() throws Exception {
        String query = "?prompt=What+does+the+person+say%3F&greedy=true&max_new_tokens=12";
        assertSame("wav upload", describe(app, speech, query), describe(gateway, speech, query));
        String body = json.createObjectNode().put("audio", b64(speech)).put("environment", TinyModel.LDV)
                .set("generate", json.createObjectNode().put("prompt", PROMPT).put("max_new_tokens", 8).put("greedy", true))
                .toString();
        assertSame("JSON with environment ldv", describeJson(app, body), describeJson(gateway, body));

        byte[] garbage = "RIFF this is not a WAV, FLAC or MP3 file".repeat(20).getBytes(StandardCharsets.US_ASCII);
        assertSame("garbage audio", describe(app, garbage, query), describe(gateway, garbage, query));
        assertSame("unknown environment", describe(app, speech, query + "&environment=studio"),
                describe(gateway, speech, query + "&environment=studio"));
        assertSame("max_new_tokens over the context", describe(app, speech, "?max_new_tokens=100000"),
                describe(gateway, speech, "?max_new_tokens=100000"));
        assertSame("bad query parameter", describe(app, speech, "?greedy=maybe"), describe(gateway, speech, "?greedy=maybe"));
        assertSame("empty body", describe(app, new byte[0], query), describe(gateway, new byte[0], query));
        assertSame("malformed JSON", describeJson(app, "{\"audio\": "), describeJson(gateway, "{\"audio\": "));
        assertSame("wrong-typed JSON", describeJson(app, "{\"audio\": \"UklGRg==\", \"generate\": {\"max_new_tokens\": \"x\"}}"),
                describeJson(gateway, "{\"audio\": \"UklGRg==\", \"generate\": {\"max_new_tokens\": \"x\"}}"));
        byte[] malformedChat = "{\"model\": \"qwen2-audio\", \"messages\": [".getBytes(StandardCharsets.UTF_8);
        assertSame("malformed chat", post(app, "/v1/chat/completions", "application/json", malformedChat),
                post(gateway, "/v1/chat/completions", "application/json", malformedChat));
        byte[] textOnly = "{\"model\": \"qwen2-audio\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        Answer noAudio = post(gateway, "/v1/chat/completions", "application/json", textOnly);
        assertEquals(400, noAudio.status(), noAudio.body().toString());
        assertEquals("messages", noAudio.body().at("/error/param").asText(), "a chat without audio through the gateway");

        // request_id: the same request again gets the first answer; the same id with other audio 409
        String id = "&request_id=gateway-rid-1";
        Answer first = describe(gateway, speech, query + id);
        assertEquals(200, first.status(), first.body().toString());
        assertEquals(first.body(), describe(gateway, speech, query + id).body());
        Answer conflict = describe(gateway, SampleAudio.vibratoTone(16_000, 2, 330), query + id);
        assertEquals(409, conflict.status(), conflict.body().toString());
        assertEquals("request_id", conflict.body().path("param").asText());

        Answer unknownRoute = post(gateway, "/encode", "application/json", "{}".getBytes(StandardCharsets.UTF_8));
        assertEquals(404, unknownRoute.status());
        assertTrue(unknownRoute.body().path("message").asText().contains("encode-function"), unknownRoute.body().toString());
        Answer diagnostics = post(gateway, "/v1/audio/diagnostics", "audio/wav", speech);
        assertEquals(404, diagnostics.status());
        assertEquals("diagnostics_disabled", diagnostics.body().path("error").asText());
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(gateway.uri()).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode(), "the playground page");
        assertTrue(page.body().contains("playground.js"), "the playground page: " + page.body());
        JsonNode envs = get(gateway, "/v1/audio/environments").body();
        assertEquals(get(app, "/v1/audio/environments").body().get("environments"), envs.get("environments"));
        report.add("describe (file, JSON, garbage 422, unknown environment 422, context 400, bad parameter 400, empty 400): "
                + "same status and JSON through the gateway as from the app; request_id replay and 409; stage routes 404 "
                + "naming their Service; the playground page served; diagnostics 404 in gateway mode; environments "
                + envs.get("environments"));
    }

    @Test
    @Order(3)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void embedAnswersAsTheApp() throws Exception {
        byte[] body = json.createObjectNode().put("audio", b64(speech)).put("pooling", "mean").put("normalize", true)
                .toString().getBytes(StandardCharsets.UTF_8);
        Answer a = post(app, "/embed", "application/json", body);
        Answer g = post(gateway, "/embed", "application/json", body);
        assertEquals(200, a.status(), a.body().toString());
        assertEquals(200, g.status(), g.body().toString());
        assertEquals(a.body().get("tokens"), g.body().get("tokens"));
        double diff = Parity.relError(floats(a.body().get("embedding")), floats(g.body().get("embedding")));
        assertTrue(diff < 1e-5, "embedding through the gateway vs the app: rel " + diff);
        Answer bad = post(gateway, "/embed", "application/json", "{\"audio\": 12}".getBytes(StandardCharsets.UTF_8));
        Answer badApp = post(app, "/embed", "application/json", "{\"audio\": 12}".getBytes(StandardCharsets.UTF_8));
        assertEquals(badApp.status(), bad.status(), bad.body().toString());
        report.add(String.format(Locale.ROOT, "/embed: embedding.requested -> embedding.created through the gateway, rel diff "
                + "%.1e to the app; a wrong-typed field %d as from the app", diff, bad.status()));
    }

    @Test
    @Order(4)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void audioOverTheInlineLimitTravelsByClaimCheck() throws Exception {
        byte[] audio = SampleAudio.vibratoTone(16000, 45, 220); // 1.4 MB of WAV, over the 256K inline limit
        String body = json.createObjectNode().put("audio", b64(audio)).put("request_id", "gateway-claim-check")
                .set("generate", json.createObjectNode().put("max_new_tokens", 8).put("greedy", true)).toString();
        Answer g = describeJson(gateway, body);
        assertSame("45 s clip", describeJson(app, body), g);
        Event received = broker.traces().stream().map(t -> t.hops().isEmpty() ? null : t.hops().get(0).in())
                .filter(e -> e != null && "gateway-claim-check".equals(e.correlationId())).findFirst().orElseThrow();
        JsonNode data = json.readTree(received.data());
        assertFalse(data.has("audio"), "the audio.received event carries no inline audio");
        String ref = data.path("audio_ref").asText();
        assertFalse(ref.isEmpty(), "the audio.received event carries the upload's reference: " + data);
        try (var files = Files.list(chain.blobDir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains(ref)), "the gateway deleted " + ref);
        }
        report.add(String.format(Locale.ROOT, "45 s clip (%d KB): uploaded to the shared blob store by the gateway, the event "
                + "carried %s (%d bytes of event data), same answer as the app, blob deleted after the answer",
                audio.length / 1024, ref, received.data().length));
    }

    @Test
    @Order(5)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void concurrentRequestsNeverSeeEachOthersAnswers() throws Exception {
        String query = "?prompt=What+does+the+person+say%3F&greedy=true&max_new_tokens=8";
        byte[] other = TinyModel.speechWav("Turn left at the second light.");
        JsonNode expectedA = describe(app, speech, query).body();
        JsonNode expectedB = describe(app, other, query).body();
        assertFalse(expectedA.get("token_ids").equals(expectedB.get("token_ids")), "the two clips give different answers");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Answer>> distinct = new ArrayList<>();
            List<Future<Answer>> shared = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                byte[] clip = i % 2 == 0 ? speech : other;
                distinct.add(pool.submit(() -> describe(gateway, clip, query)));
                shared.add(pool.submit(() -> describe(gateway, clip, query + "&request_id=gateway-shared")));
            }
            for (int i = 0; i < 8; i++) {
                Answer a = distinct.get(i).get();
                assertEquals(200, a.status(), a.body().toString());
                assertEquals((i % 2 == 0 ? expectedA : expectedB).get("token_ids"), a.body().get("token_ids"), "request " + i);
            }
            int ok = 0, conflicts = 0;
            for (int i = 0; i < 8; i++) {
                Answer a = shared.get(i).get();
                if (a.status() == 409) {
                    conflicts++;
                    continue;
                }
                assertEquals(200, a.status(), a.body().toString());
                assertEquals((i % 2 == 0 ? expectedA : expectedB).get("token_ids"), a.body().get("token_ids"),
                        "a request sharing its id got its own answer or 409, request " + i);
                ok++;
            }
            assertTrue(ok >= 1 && conflicts >= 1, ok + " answered, " + conflicts + " conflicts");
            report.add("8 concurrent requests with their own ids: each got its own clip's answer; 8 sharing one request_id "
                    + "over two clips: " + ok + " answered with their own clip's answer, " + conflicts + " refused with 409");
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- failures: one answer, never two ----

    @Test
    @Order(6)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aStageKilledMidRequestGivesOneClearError() throws Exception {
        StageProcess generate = chain.get(StageChain.GENERATE);
        int repliesBefore = broker.replies().size();
        broker.beforeHttpDeliveries((route, e) -> {
            if (route.service().equals(StageChain.GENERATE) && "gateway-killed".equals(e.correlationId())) generate.kill();
        });
        long t0 = System.nanoTime();
        Answer a;
        try {
            a = describe(gateway, speech, "?max_new_tokens=8&request_id=gateway-killed");
        } finally {
            broker.beforeHttpDeliveries((route, e) -> {
            });
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(503, a.status(), a.body().toString());
        assertEquals("dead_letter", a.body().path("error").asText());
        assertEquals("generate", a.body().path("stage").asText());
        assertEquals("gateway-killed", a.body().path("request_id").asText());
        assertNotNull(a.retryAfter(), "Retry-After on a dead letter");
        List<Event> replies = broker.replies().subList(repliesBefore, broker.replies().size()).stream()
                .filter(e -> "gateway-killed".equals(e.correlationId())).toList();
        assertEquals(1, replies.size(), "one reply event for the request: " + replies);
        assertEquals(EventTypes.PIPELINE_FAILED, replies.get(0).type());
        long restart = generate.start();
        report.add(String.format(Locale.ROOT, "generate killed as audio.adapted was delivered: the retries failed, the dead "
                        + "letter went to the gateway, which sent one pipeline.failed; the caller got %d %s after %d ms: %s "
                        + "(generate restarted in %d ms)", a.status(), a.body().path("error").asText(), ms,
                a.body().path("message").asText(), restart));
    }

    @Test
    @Order(7)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aFrozenStageGivesOneTimeoutAndTheLateReplyIsDropped() throws Exception {
        StageProcess generate = chain.get(StageChain.GENERATE);
        Duration wait = Duration.ofSeconds(5);
        broker.requestReplyTimeout(wait);
        int dropped = broker.droppedReplies();
        broker.beforeHttpDeliveries((route, e) -> {
            if (route.service().equals(StageChain.GENERATE) && "gateway-frozen".equals(e.correlationId())) generate.pause();
        });
        Answer a;
        long t0 = System.nanoTime();
        try {
            a = describe(gateway, speech, "?max_new_tokens=8&request_id=gateway-frozen");
        } finally {
            broker.beforeHttpDeliveries((route, e) -> {
            });
            generate.resume();
            broker.requestReplyTimeout(chain.routes.requestReply.timeout());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(504, a.status(), a.body().toString());
        assertEquals("timeout", a.body().path("error").asText());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (broker.droppedReplies() == dropped && System.nanoTime() < deadline) StageProcess.sleep(100);
        assertEquals(dropped + 1, broker.droppedReplies(), "the late text.generated reached the RequestReply and was dropped");
        List<Event> replies = broker.replies().stream().filter(e -> "gateway-frozen".equals(e.correlationId())).toList();
        assertEquals(1, replies.size(), "one reply event: " + replies);
        assertEquals(EventTypes.TEXT_GENERATED, replies.get(0).type());
        report.add(String.format(Locale.ROOT, "generate frozen: the RequestReply (wait %d s) answered with no event, the caller "
                + "got 504 timeout after %d ms; generate resumed and its late text.generated was dropped by the RequestReply",
                wait.toSeconds(), ms));
    }

    @Test
    @Order(8)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void deadLettersOfAnOverloadedStageAreAnsweredAs429() throws Exception {
        int before = broker.results().size();
        Event dead = Event.create(EventTypes.AUDIO_RECEIVED, "qwen-audio/gateway-it", "{}".getBytes(StandardCharsets.UTF_8),
                Map.of("correlationid", "gateway-overloaded", "knativeerrorcode", "429",
                        "knativeerrordest", chain.get(StageChain.ENCODE).uri().toString(),
                        // a RequestReply correlation no RequestReply made: the pipeline.failed reaches the Broker, and
                        // the RequestReply's reply routing ignores it
                        chain.routes.requestReply.correlationAttribute(), "forged:bm90LXNpZ25lZA==:0"));
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri().resolve("/v1/events/dead-letter"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(dead.data()));
        dead.attributes().forEach((k, v) -> b.header("ce-" + k, v));
        assertEquals(202, http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Event failed = null;
        while (failed == null && System.nanoTime() < deadline) {
            failed = broker.results().stream().skip(before).filter(e -> "gateway-overloaded".equals(e.correlationId()))
                    .findFirst().orElse(null);
            if (failed == null) StageProcess.sleep(50);
        }
        assertNotNull(failed, "the gateway sent the pipeline.failed to the Broker");
        assertEquals(EventTypes.PIPELINE_FAILED, failed.type());
        JsonNode f = json.readTree(failed.data());
        assertEquals(429, f.path("status").asInt());
        assertEquals("overloaded", f.path("error").asText());
        assertEquals("encode", f.path("stage").asText());
        for (byte[] bad : List.of(new byte[0], "{}".getBytes(StandardCharsets.UTF_8), "not json".getBytes(StandardCharsets.UTF_8))) {
            Answer a = post(gateway, "/v1/events/dead-letter", "application/json", bad);
            assertEquals(400, a.status(), a.body().toString());
        }
        assertTrue(broker.replies().stream().noneMatch(e -> "gateway-overloaded".equals(e.correlationId())),
                "a correlation the RequestReply did not sign is no reply");
        // a dead letter of an event posted to the Broker directly (no RequestReply correlation): logged, no event
        Event direct = Event.create(EventTypes.AUDIO_RECEIVED, "qwen-audio/gateway-it", "{}".getBytes(StandardCharsets.UTF_8),
                Map.of("correlationid", "gateway-direct", "knativeerrorcode", "500"));
        HttpRequest.Builder d = HttpRequest.newBuilder(gateway.uri().resolve("/v1/events/dead-letter"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(direct.data()));
        direct.attributes().forEach((k, v) -> d.header("ce-" + k, v));
        assertEquals(202, http.send(d.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        StageProcess.sleep(1000);
        assertTrue(broker.results().stream().noneMatch(e -> "gateway-direct".equals(e.correlationId())),
                "a dead letter without a RequestReply correlation is logged, not sent on");
        report.add("a dead letter with knativeerrorcode 429 -> pipeline.failed 429 overloaded (stage encode) into the Broker "
                + "(its forged correlation is no reply); one without a RequestReply correlation is logged only; a "
                + "dead-letter POST that is not a CloudEvent -> 400");
    }

    @Test
    @Order(9)
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void overheadOfTheGatewayOverTheApp() throws Exception {
        String query = "?prompt=What+does+the+person+say%3F&greedy=true&max_new_tokens=8";
        for (int i = 0; i < 2; i++) {
            describe(app, speech, query);
            describe(gateway, speech, query);
        }
        List<Double> viaApp = new ArrayList<>(), viaGateway = new ArrayList<>();
        for (int i = 0; i < TIMED_RUNS; i++) { // alternated, so load changes hit both alike
            viaApp.add(timed(() -> describe(app, speech, query)));
            viaGateway.add(timed(() -> describe(gateway, speech, query)));
        }
        double a = median(viaApp), g = median(viaGateway);
        report.add(String.format(Locale.ROOT, "describe, 3 s speech, 8 tokens, tiny model, median of %d: one-process app %.1f ms, "
                + "through the gateway %.1f ms (+%.1f ms, %.2fx: one RequestReply round trip and four HTTP hops with "
                + "JSON/base64 of the hidden states)", TIMED_RUNS, a, g, g - a, g / a));
    }

    // ---- helpers ----

    private record Answer(int status, JsonNode body, String retryAfter) {
    }

    /** Same status, and the same JSON apart from what differs per call (timings, request and event ids). */
    private void assertSame(String what, Answer expected, Answer actual) {
        assertEquals(expected.status(), actual.status(), what + ": " + expected.body() + " vs " + actual.body());
        assertEquals(strip(expected.body()), strip(actual.body()), what);
    }

    private static JsonNode strip(JsonNode n) {
        if (!(n instanceof ObjectNode o)) return n;
        ObjectNode c = o.deepCopy();
        c.remove(List.of("timings", "request_id", "event_id"));
        if (c.has("message")) { // error ids and process-specific addresses differ
            c.put("message", c.get("message").asText().replaceAll("error id [0-9a-f-]+", "error id *"));
        }
        return c;
    }

    private Answer describe(StageProcess p, byte[] audio, String query) throws IOException, InterruptedException {
        return post(p, "/v1/audio/describe" + query, "audio/wav", audio);
    }

    private Answer describeJson(StageProcess p, String body) throws IOException, InterruptedException {
        return post(p, "/v1/audio/describe", "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    private Answer post(StageProcess p, String path, String contentType, byte[] body) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(p.uri().resolve(path)).timeout(Duration.ofSeconds(120))
                .header("content-type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return answer(http.send(r, HttpResponse.BodyHandlers.ofByteArray()));
    }

    private Answer get(StageProcess p, String path) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(p.uri().resolve(path)).timeout(Duration.ofSeconds(30)).GET().build();
        return answer(http.send(r, HttpResponse.BodyHandlers.ofByteArray()));
    }

    private Answer answer(HttpResponse<byte[]> r) throws IOException {
        JsonNode body = r.body().length == 0 ? json.createObjectNode() : json.readTree(r.body());
        return new Answer(r.statusCode(), body, r.headers().firstValue("Retry-After").orElse(null));
    }

    private static double timed(Callable<Answer> call) throws Exception {
        long t0 = System.nanoTime();
        Answer a = call.call();
        if (a.status() != 200) fail("timed request failed: " + a.status() + " " + a.body());
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(List<Double> values) {
        List<Double> v = values.stream().sorted().toList();
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    private static float[] floats(JsonNode array) {
        float[] f = new float[array.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) array.get(i).asDouble();
        return f;
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static String run(Path dir, int timeoutSeconds, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) fail(String.join(" ", cmd) + " failed: " + err);
        return new String(out, StandardCharsets.UTF_8);
    }
}
