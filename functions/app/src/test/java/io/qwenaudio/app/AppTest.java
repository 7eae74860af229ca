package io.qwenaudio.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.reference.ReferenceModel;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.qwenaudio.testtools.ExternalTool;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;
import io.qwenaudio.text.Tokenizer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The embedded app end to end through its public HTTP API with real speech (espeak-ng): /v1/audio/describe over
 * the in-process chain against the naive reference pipeline, and the OpenAI-compatible API called the way an
 * OpenAI SDK calls it (whole, streamed, errors, a client that disconnects) and with the official {@code openai} npm
 * SDK itself.
 */
@QuarkusTest
@QuarkusTestResource(value = TinyModelResource.class, restrictToAnnotatedClass = true)
class AppTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static byte[] speech;

    @TestHTTPResource("/")
    URL base;

    @BeforeAll
    static void speech() {
        speech = TinyModel.speechWav("The quick brown fox jumps over the lazy dog.");
    }

    /** Greedy ids of the naive reference pipeline: reference encoder, adapter, projector and decoder. */
    static int[] referenceIds(byte[] audio, String environment, String prompt, int maxNew) {
        TinyModel m = TinyModel.get();
        float[] h = m.referenceHidden(audio);
        int n = h.length / m.dModel();
        if (environment != null) h = m.referenceAdapted(environment, h, n).out();
        Manifest manifest = Manifest.read(m.artifacts);
        int[] ids;
        try (Tokenizer t = Tokenizer.load(m.artifacts)) {
            ids = new PromptBuilder(t, manifest.specialTokens().audioTokenId())
                    .build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(prompt))), new int[] {n}).ids();
        }
        int[] stop = GenerationOptions.defaults(manifest).stopTokenIds().stream().mapToInt(i -> i).toArray();
        try (Checkpoint w = Checkpoint.open(m.checkpoint)) {
            ReferenceModel ref = m.referenceModel(w);
            return ref.greedy(ids, m.referenceProjected(h, n), n, maxNew, stop);
        }
    }

    @Test
    void describeRunsTheChainAndMatchesTheReference() {
        JsonPath j = given().contentType("audio/wav").body(speech)
                .queryParam("prompt", "What does the person say?").queryParam("environment", "ldv")
                .queryParam("greedy", true).queryParam("max_new_tokens", 10).queryParam("repetition_penalty", 1.0)
                .post("/v1/audio/describe").then().statusCode(200).extract().jsonPath();
        List<Integer> ids = j.getList("token_ids", Integer.class);
        List<Integer> want = Arrays.stream(referenceIds(speech, "ldv", "What does the person say?", 10)).boxed().toList();
        assertEquals(want, ids);
        assertEquals("ldv", j.getString("adapter.environment"));
        assertEquals("ldv", j.getString("environment"));
        assertTrue(j.getDouble("timings.encode_ms") > 0 && j.getDouble("timings.prefill_ms") > 0);
        assertEquals(ids.size(), j.getInt("usage.completion_tokens"));
    }

    @Test
    void describeReportsAFailingStage() {
        given().contentType("audio/wav").body("RIFF but not really".getBytes()).post("/v1/audio/describe")
                .then().statusCode(422).body("stage", equalTo("encode")).body("error", equalTo("invalid_audio"));
        given().contentType("audio/wav").body(speech).queryParam("environment", "mars").post("/v1/audio/describe")
                .then().statusCode(422).body("stage", equalTo("adapt")).body("message", containsString("ldv"));
        given().contentType("audio/wav").body(speech).queryParam("temperature", -2).post("/v1/audio/describe")
                .then().statusCode(400).body("stage", equalTo("generate"));
    }

    String chatBody(boolean stream, int maxTokens, String environment) throws Exception {
        return chatBody(stream, maxTokens, environment, false);
    }

    String chatBody(boolean stream, int maxTokens, String environment, boolean ignoreEos) throws Exception {
        Map<String, Object> audio = Map.of("type", "input_audio",
                "input_audio", Map.of("data", Base64.getEncoder().encodeToString(speech), "format", "wav"));
        Map<String, Object> body = new java.util.HashMap<>(Map.of("model", "qwen2-audio", "max_tokens", maxTokens,
                "temperature", 0, "repetition_penalty", 1.0, "stream", stream,
                "messages", List.of(Map.of("role", "user", "content", List.of(audio,
                        Map.of("type", "text", "text", "What does the person say?"))))));
        if (stream) body.put("stream_options", Map.of("include_usage", true));
        if (environment != null) body.put("environment", environment);
        if (ignoreEos) body.put("ignore_eos", true);
        return JSON.writeValueAsString(body);
    }

    HttpRequest post(String path, String body) {
        return HttpRequest.newBuilder(URI.create(base.toString()).resolve(path))
                .header("Content-Type", "application/json").header("Authorization", "Bearer sk-anything")
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void openAiChatCompletionWholeAndStreamedAgree() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> whole = http.send(post("v1/chat/completions", chatBody(false, 12, "ldv")),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, whole.statusCode(), whole.body());
        JsonNode c = JSON.readTree(whole.body());
        assertEquals("chat.completion", c.get("object").asText());
        assertEquals("assistant", c.at("/choices/0/message/role").asText());
        String text = c.at("/choices/0/message/content").asText();
        int completion = c.at("/usage/completion_tokens").asInt();
        assertTrue(completion >= 1 && completion <= 12);
        assertEquals(c.at("/usage/prompt_tokens").asInt() + completion, c.at("/usage/total_tokens").asInt());

        // the same request through /v1/audio/describe (the event chain) gives the same text
        String viaChain = given().contentType("audio/wav").body(speech).queryParam("prompt", "What does the person say?")
                .queryParam("environment", "ldv").queryParam("greedy", true).queryParam("max_new_tokens", 12)
                .queryParam("repetition_penalty", 1.0).post("/v1/audio/describe").then().statusCode(200)
                .extract().jsonPath().getString("text");
        assertEquals(viaChain, text);

        HttpResponse<java.util.stream.Stream<String>> streamed = http.send(post("v1/chat/completions", chatBody(true, 12, "ldv")),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, streamed.statusCode());
        assertTrue(streamed.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> data = streamed.body().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).collect(Collectors.toList());
        assertEquals("[DONE]", data.get(data.size() - 1));
        StringBuilder joined = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode chunk = JSON.readTree(d);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            if (chunk.hasNonNull("usage")) usage = chunk.get("usage");
            if (chunk.get("choices").isEmpty()) continue;
            joined.append(chunk.at("/choices/0/delta/content").asText(""));
            if (!chunk.at("/choices/0/finish_reason").isNull()) finish = chunk.at("/choices/0/finish_reason").asText();
        }
        assertEquals(text, joined.toString());
        assertEquals(c.at("/choices/0/finish_reason").asText(), finish);
        assertNotNull(usage);
        assertEquals(completion, usage.get("completion_tokens").asInt());
    }

    @Test
    void openAiModelsAndErrors() throws Exception {
        given().get("/v1/models").then().statusCode(200).body("data[0].id", equalTo("qwen2-audio"));
        HttpClient http = HttpClient.newHttpClient();
        String good = chatBody(false, 4, null);
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put(good.replace("\"data\":\"", "\"data\":\"%%%"), "not valid base64");
        cases.put(good.replace("\"format\":\"wav\"", "\"format\":\"ogg\""), "accepted: wav, mp3, flac");
        cases.put(good.replace("\"temperature\":0", "\"temperature\":-1"), "temperature must be >= 0");
        cases.put(good.replace("\"temperature\":0", "\"temperature\":0.5,\"top_p\":1.5"), "top_p must be in (0, 1]");
        cases.put(good.replace("\"max_tokens\":4", "\"max_tokens\":100000"), "context");
        cases.put("{\"model\":\"qwen2-audio\",\"messages\":[]}", "non-empty array");
        cases.put("{\"model\":\"qwen2-audio\",\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}", "prompt is empty");
        cases.put("{\"model\":\"qwen2-audio\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}",
                "accepted: text, input_audio");
        cases.put("{not json", "not valid JSON");
        String clip = JSON.readTree(good).at("/messages/0/content/0").toString();
        cases.put("{\"model\":\"qwen2-audio\",\"messages\":[{\"role\":\"user\",\"content\":[" + String.join(",",
                java.util.Collections.nCopies(5, clip)) + "]}]}", "at most 4");
        for (Map.Entry<String, String> e : cases.entrySet()) {
            HttpResponse<String> r = http.send(post("v1/chat/completions", e.getKey()), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), r.body());
            JsonNode err = JSON.readTree(r.body()).get("error");
            assertTrue(err.get("message").asText().contains(e.getValue()), e.getValue() + " not in " + r.body());
            assertEquals("invalid_request_error", err.get("type").asText());
        }
        HttpResponse<String> r = http.send(post("v1/chat/completions", good.replace("qwen2-audio", "gpt-4o")),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, r.statusCode());
        assertEquals("model_not_found", JSON.readTree(r.body()).at("/error/code").asText());
    }

    @Test
    void clientThatDisconnectsMidStreamStopsTheGeneration() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        // ignore_eos: the generation runs to max_tokens (1900 tokens, seconds on the tiny model) unless stopped
        double before = counter("openai", "cancelled");
        HttpResponse<java.io.InputStream> r = http.send(post("v1/chat/completions", chatBody(true, 1900, null, true)),
                HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            assertTrue(in.readLine().startsWith("data: "));
        } // closes the connection mid-stream
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (counter("openai", "cancelled") < before + 1 && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(before + 1, counter("openai", "cancelled"), "the generation must notice the disconnect and stop");
        given().get("/q/metrics").then().body(containsString("qwen_audio_queue_depth{stage=\"generate\"} 0.0"));
    }

    @Test
    void embedAndHealthAreServedToo() {
        given().contentType("application/json").body(Map.of("audio", Base64.getEncoder().encodeToString(speech)))
                .post("/embed").then().statusCode(200).body("dim", equalTo(TinyModel.get().dModel()));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }

    static double counter(String stage, String outcome) {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("qwen_audio_requests_total{") && line.contains("stage=\"" + stage + "\"")
                    && line.contains("outcome=\"" + outcome + "\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    // ---- the official OpenAI SDK (npm "openai", installed into target/ at test time) ----

    static final Path NPM = Path.of("target", "npm-openai").toAbsolutePath();
    static final String PACKAGE = "openai@4.104.0";

    static String runNode(Path dir, int timeoutSeconds, String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd[0] + ": install Node.js and npm (Debian: apt-get install nodejs npm)", e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) fail(String.join(" ", cmd) + " failed: " + err);
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void theOfficialSdkTalksToTheApi() throws Exception {
        ExternalTool.NODE.require();
        Files.createDirectories(NPM);
        if (!Files.isDirectory(NPM.resolve("node_modules/openai"))) {
            runNode(NPM, 300, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", NPM.toString(), PACKAGE);
        }
        Path script = Files.copy(Path.of("src/test/js/openai_sdk.mjs"), NPM.resolve("openai_sdk.mjs"),
                StandardCopyOption.REPLACE_EXISTING);
        byte[] speech = TinyModel.speechWav("Please call me back after lunch.");
        Path wav = Files.write(NPM.resolve("speech.wav"), speech);

        JsonNode r = new ObjectMapper().readTree(runNode(NPM, 120, "node", script.toString(), base.toString() + "v1", wav.toString()));
        assertEquals("qwen2-audio", r.at("/models/0").asText());
        String viaChain = given().contentType("audio/wav").body(speech).queryParam("prompt", "What does the person say?")
                .queryParam("greedy", true).queryParam("max_new_tokens", 12).queryParam("repetition_penalty", 1.0)
                .post("/v1/audio/describe").then().statusCode(200).extract().jsonPath().getString("text");
        assertEquals(viaChain, r.at("/whole/text").asText());
        assertEquals(r.at("/whole/text").asText(), r.at("/streamed/text").asText());
        assertEquals(r.at("/whole/finish").asText(), r.at("/streamed/finish").asText());
        assertEquals(r.at("/whole/usage"), r.at("/streamed/usage"));
        assertTrue(r.at("/streamed/chunks").asInt() >= 3);
        assertEquals(400, r.at("/error/status").asInt());
        assertEquals("invalid_request_error", r.at("/error/type").asText());
        assertTrue(r.at("/error/message").asText().contains("temperature"), r.at("/error").toString());
    }
}
