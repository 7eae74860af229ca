package io.qwenaudio.functions.adapt;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.reference.ReferenceAdapter;
import io.qwenaudio.tensor.Npy;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
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
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adapt function with two adapters loaded ({@code ldv}, {@code piezo}) against the naive reference adapter:
 * switching per request, pass-through, the CloudEvent contract and bad input.
 */
@QuarkusTest
@QuarkusTestResource(TinyModelResource.class)
class AdaptFunctionTest {

    static float[] hidden(int n, int d, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static Map<String, Object> encoded(float[] x, int n, int d, String env) {
        Map<String, Object> m = new HashMap<>();
        m.put("hidden", Map.of("dtype", "float32", "shape", List.of(n, d),
                "npy", Base64.getEncoder().encodeToString(Npy.toBytes(x, new long[] {n, d}))));
        m.put("windows", 1);
        m.put("duration_seconds", n / 25.0);
        if (env != null) m.put("environment", env);
        return m;
    }

    static float[] npy(String b64) {
        return Npy.read(Base64.getDecoder().decode(b64)).toFloats();
    }

    @Test
    void eachEnvironmentGetsItsOwnAdapter() {
        TinyModel m = TinyModel.get();
        int n = 40, d = m.dModel();
        float[] x = hidden(n, d, 1);
        for (String env : List.of(TinyModel.LDV, TinyModel.PIEZO, TinyModel.LDV)) {
            JsonPath j = given().contentType("application/json").body(encoded(x, n, d, env)).post("/adapt")
                    .then().statusCode(200).extract().jsonPath();
            ReferenceAdapter.Result ref = m.referenceAdapted(env, x, n);
            float[] got = npy(j.getString("hidden.npy"));
            TinyModel.assertMatchesReference("adapt " + env, ref.out(), got);
            assertEquals(env, j.getString("adapter.environment"));
            double mean = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
            for (float g : ref.gate()) {
                mean += g / ref.gate().length;
                min = Math.min(min, g);
                max = Math.max(max, g);
            }
            assertEquals(mean, j.getDouble("adapter.gate_mean"), 1e-4);
            assertEquals(min, j.getDouble("adapter.gate_min"), 1e-4);
            assertEquals(max, j.getDouble("adapter.gate_max"), 1e-4);
            assertTrue(j.getDouble("adapter.relative_delta_norm") > 0);
        }
        float[] a = npy(given().contentType("application/json").body(encoded(x, n, d, TinyModel.LDV)).post("/adapt")
                .then().extract().jsonPath().getString("hidden.npy"));
        float[] b = npy(given().contentType("application/json").body(encoded(x, n, d, TinyModel.PIEZO)).post("/adapt")
                .then().extract().jsonPath().getString("hidden.npy"));
        assertTrue(Parity.relError(a, b) > 1e-3, "the two environments must use different adapters");
    }

    @Test
    void noEnvironmentOrNonePassesThrough() {
        int n = 5, d = TinyModel.get().dModel();
        float[] x = hidden(n, d, 2);
        for (String env : new String[] {null, "none"}) {
            JsonPath j = given().contentType("application/json").body(encoded(x, n, d, env)).post("/adapt")
                    .then().statusCode(200).extract().jsonPath();
            assertArrayEquals(x, npy(j.getString("hidden.npy")));
            assertEquals(null, (Object) j.get("adapter"));
        }
    }

    @Test
    void cloudEventTakesTheEnvironmentFromTheExtension() {
        TinyModel m = TinyModel.get();
        int n = 12, d = m.dModel();
        float[] x = hidden(n, d, 3);
        Response r = given().contentType("application/json")
                .header("ce-specversion", "1.0").header("ce-id", "adapt-evt-1").header("ce-type", "io.qwenaudio.audio.encoded")
                .header("ce-source", "qwen-audio/encode").header("ce-correlationid", "req-7").header("ce-environment", "piezo")
                .body(encoded(x, n, d, null)).post("/");
        r.then().statusCode(200).header("ce-type", "io.qwenaudio.audio.adapted").header("ce-source", "qwen-audio/adapt")
                .header("ce-correlationid", "req-7").header("ce-environment", "piezo")
                .body("request_id", equalTo("req-7")).body("adapter.environment", equalTo("piezo"));
        TinyModel.assertMatchesReference("adapt over a CloudEvent", m.referenceAdapted("piezo", x, n).out(),
                npy(r.jsonPath().getString("hidden.npy")));
    }

    @Test
    void concurrentRequestsSwitchAdaptersCorrectly() throws Exception {
        TinyModel m = TinyModel.get();
        int d = m.dModel(), clients = 16;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<float[]>> answers = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int n = 10 + i;
                float[] x = hidden(n, d, 100 + i);
                String env = i % 3 == 0 ? "none" : i % 3 == 1 ? TinyModel.LDV : TinyModel.PIEZO;
                answers.add(pool.submit(() -> npy(given().contentType("application/json").body(encoded(x, n, d, env))
                        .post("/adapt").then().statusCode(200).extract().jsonPath().getString("hidden.npy"))));
            }
            for (int i = 0; i < clients; i++) {
                int n = 10 + i;
                float[] x = hidden(n, d, 100 + i);
                String env = i % 3 == 0 ? null : i % 3 == 1 ? TinyModel.LDV : TinyModel.PIEZO;
                float[] want = env == null ? x : m.referenceAdapted(env, x, n).out();
                TinyModel.assertMatchesReference("adapt client " + i, want, answers.get(i).get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badInputGetsJsonErrors() {
        int d = TinyModel.get().dModel();
        given().contentType("application/json").body(encoded(hidden(3, d, 4), 3, d, "underwater")).post("/adapt")
                .then().statusCode(422).body("error", equalTo("unknown_environment"))
                .body("message", containsString("accepted: ldv, piezo, none"));
        given().contentType("application/json").body(encoded(hidden(3, d + 1, 4), 3, d + 1, "ldv")).post("/adapt")
                .then().statusCode(400).body("error", equalTo("invalid_payload")).body("message", containsString("[*, " + d + "]"));
        Map<String, Object> ints = encoded(hidden(3, d, 4), 3, d, "ldv");
        ints.put("hidden", Map.of("dtype", "int32", "shape", List.of(3, d), "npy",
                Base64.getEncoder().encodeToString(Npy.toBytes(new float[3 * d], new long[] {3, d}))));
        given().contentType("application/json").body(ints).post("/adapt")
                .then().statusCode(400).body("message", containsString("accepted: float32, float16"));
        given().contentType("application/json").body(Map.of("environment", "ldv")).post("/adapt")
                .then().statusCode(400).body("message", containsString("'hidden' is missing"));
        Map<String, Object> foreign = encoded(hidden(3, d, 4), 3, d, "ldv");
        foreign.put("hidden", Map.of("dtype", "float32", "shape", List.of(3, d), "ref", "file:/etc/passwd"));
        given().contentType("application/json").body(foreign).post("/adapt")
                .then().statusCode(400).body("error", equalTo("invalid_payload"));
        given().contentType("application/json").body("[1, 2").post("/adapt").then().statusCode(400);
        given().contentType("application/json")
                .header("ce-specversion", "1.0").header("ce-id", "adapt-bad-1").header("ce-type", "io.qwenaudio.audio.encoded")
                .header("ce-source", "test").header("ce-environment", "underwater")
                .body(encoded(hidden(3, d, 4), 3, d, null)).post("/")
                .then().statusCode(200).header("ce-type", "io.qwenaudio.pipeline.failed")
                .header("ce-environment", "underwater").body("error", equalTo("unknown_environment"));
    }

    @Test
    void readyWithBothAdapters() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks[0].data.domain_adapters", containsString("[ldv, piezo]"));
    }
}
