package io.qwenaudio.functions.generate;

import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.reference.ReferenceDecoder;
import io.qwenaudio.reference.ReferenceModel;
import io.qwenaudio.tensor.Npy;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;
import io.qwenaudio.text.Tokenizer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generate function against the naive reference model on the tiny checkpoint: greedy ids, the no-decode
 * hidden states, seeded sampling, the CloudEvent contract and bad options.
 */
@QuarkusTest
@QuarkusTestResource(TinyModelResource.class)
class GenerateFunctionTest {

    static final int N = 30;
    static float[] hidden;

    @BeforeAll
    static void audio() {
        Random r = new Random(5);
        hidden = new float[N * TinyModel.get().dModel()];
        for (int i = 0; i < hidden.length; i++) hidden[i] = (float) r.nextGaussian();
    }

    static Map<String, Object> body(Map<String, Object> generate) {
        int d = TinyModel.get().dModel();
        Map<String, Object> m = new HashMap<>();
        m.put("hidden", Map.of("dtype", "float32", "shape", List.of(N, d),
                "npy", Base64.getEncoder().encodeToString(Npy.toBytes(hidden, new long[] {N, d}))));
        m.put("generate", generate);
        return m;
    }

    /** The prompt ids the stage builds, with the template and tokenizer the stage uses (tested on their own). */
    static int[] promptIds(String text) {
        TinyModel m = TinyModel.get();
        Manifest manifest = Manifest.read(m.artifacts);
        try (Tokenizer t = Tokenizer.load(m.artifacts)) {
            return new PromptBuilder(t, manifest.specialTokens().audioTokenId())
                    .build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(text))), new int[] {N}).ids();
        }
    }

    @Test
    void greedyIdsEqualTheReference() {
        TinyModel m = TinyModel.get();
        JsonPath j = given().contentType("application/json")
                .body(body(Map.of("prompt", "Describe the sound.", "greedy", true, "max_new_tokens", 12, "repetition_penalty", 1.0)))
                .post("/generate").then().statusCode(200).extract().jsonPath();
        List<Integer> ids = j.getList("token_ids", Integer.class);
        int[] prompt = promptIds("Describe the sound.");
        int[] stop = GenerationOptions.defaults(Manifest.read(m.artifacts)).stopTokenIds().stream().mapToInt(i -> i).toArray();
        int[] want;
        try (Checkpoint w = Checkpoint.open(m.checkpoint)) {
            ReferenceModel ref = m.referenceModel(w);
            want = ref.greedy(prompt, m.referenceProjected(hidden, N), N, 12, stop);
        }
        assertEquals(Arrays.stream(want).boxed().toList(), ids);
        assertEquals(prompt.length, j.getInt("usage.prompt_tokens"));
        assertEquals(ids.size(), j.getInt("usage.completion_tokens"));
        assertEquals(ids.size() == 12 ? "length" : "stop", j.getString("finish_reason"));
        assertTrue(j.getDouble("timings.prefill_ms") > 0);
    }

    @Test
    void noDecodeModeReturnsEveryLayer() {
        TinyModel m = TinyModel.get();
        JsonPath j = given().contentType("application/json").body(body(Map.of("prompt", "Hi")))
                .post("/hidden-states").then().statusCode(200).extract().jsonPath();
        int layers = m.config.text().numHiddenLayers();
        List<String> npys = j.getList("hidden_states.npy", String.class);
        assertEquals(layers + 1, npys.size());
        int[] prompt = promptIds("Hi");
        try (Checkpoint w = Checkpoint.open(m.checkpoint)) {
            ReferenceModel ref = m.referenceModel(w);
            ReferenceDecoder.Output out = ref.decoder().forward(ref.inputsEmbeds(prompt, m.referenceProjected(hidden, N), N), prompt.length);
            for (int l = 0; l <= layers; l++) {
                Npy.Array a = Npy.read(Base64.getDecoder().decode(npys.get(l)));
                assertEquals(prompt.length, a.shape()[0]);
                TinyModel.assertMatchesReference("hidden state " + l, out.hiddenStates()[l], a.toFloats());
            }
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        Map<String, Object> opts = Map.of("prompt", "Go", "temperature", 1.5, "top_k", 0, "top_p", 1.0, "seed", 11, "max_new_tokens", 10);
        List<Integer> a = given().contentType("application/json").body(body(opts)).post("/generate")
                .then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        List<Integer> b = given().contentType("application/json").body(body(opts)).post("/generate")
                .then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        assertEquals(a, b);
        Map<String, Object> other = new HashMap<>(opts);
        other.put("seed", 12);
        List<Integer> c = given().contentType("application/json").body(body(other)).post("/generate")
                .then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        assertNotEquals(a, c, "another seed should give another sample at temperature 1.5");
    }

    @Test
    void cloudEventAnswersTextGenerated() {
        Response r = given().contentType("application/json")
                .header("ce-specversion", "1.0").header("ce-id", "gen-evt-1").header("ce-type", "io.qwenaudio.audio.adapted")
                .header("ce-source", "qwen-audio/adapt").header("ce-correlationid", "req-9").header("ce-environment", "ldv")
                .body(body(Map.of("greedy", true, "max_new_tokens", 4))).post("/");
        r.then().statusCode(200).header("ce-type", "io.qwenaudio.text.generated").header("ce-source", "qwen-audio/generate")
                .header("ce-correlationid", "req-9").header("ce-environment", "ldv")
                .body("request_id", equalTo("req-9")).body("environment", equalTo("ldv"));
        assertTrue(r.jsonPath().getList("token_ids").size() >= 1);
    }

    @Test
    void concurrentGenerationsGiveTheSameGreedyIds() throws Exception {
        Map<String, Object> opts = Map.of("prompt", "Same", "greedy", true, "max_new_tokens", 6);
        List<Integer> want = given().contentType("application/json").body(body(opts)).post("/generate")
                .then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<List<Integer>>> got = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                got.add(pool.submit(() -> given().contentType("application/json").body(body(opts)).post("/generate")
                        .then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class)));
            }
            for (Future<List<Integer>> f : got) assertEquals(want, f.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badOptionsAre400() {
        given().contentType("application/json").body(body(Map.of("temperature", -1))).post("/generate")
                .then().statusCode(400).body("error", equalTo("invalid_generation_options"))
                .body("message", containsString("temperature must be >= 0"));
        given().contentType("application/json").body(body(Map.of("temperature", 0.7, "top_p", 1.5))).post("/generate")
                .then().statusCode(400).body("message", containsString("top_p must be in (0, 1]"));
        given().contentType("application/json").body(body(Map.of("max_new_tokens", 1_000_000))).post("/generate")
                .then().statusCode(400).body("error", equalTo("context_length_exceeded"));
        given().contentType("application/json").body(body(Map.of("prompt_ids", List.of(1, 2, 3)))).post("/generate")
                .then().statusCode(400).body("message", containsString("audio placeholder"));
        given().contentType("application/json").body(Map.of("generate", Map.of())).post("/generate")
                .then().statusCode(400).body("message", containsString("'hidden' is missing"));
    }
}
