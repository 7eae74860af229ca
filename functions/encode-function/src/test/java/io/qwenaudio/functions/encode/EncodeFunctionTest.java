package io.qwenaudio.functions.encode;

import io.qwenaudio.audio.SampleAudio;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encode function over plain HTTP and over binary-mode CloudEvents, against the naive reference encoder on
 * the same tiny checkpoint.
 */
@QuarkusTest
@QuarkusTestResource(TinyModelResource.class)
class EncodeFunctionTest {

    static final byte[] WAV_40S = SampleAudio.vibratoTone(22_050, 40.0, 220);

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    static float[] npy(String b64, long... shape) {
        Npy.Array a = Npy.read(Base64.getDecoder().decode(b64));
        assertArrayEquals(shape, a.shape());
        return a.toFloats();
    }

    @Test
    void encodeOverHttpMatchesReference() {
        TinyModel m = TinyModel.get();
        JsonPath j = given().contentType("application/json").body(Map.of("audio", b64(WAV_40S), "request_id", "r-http"))
                .post("/encode").then().statusCode(200).extract().jsonPath();
        assertEquals("r-http", j.getString("request_id"));
        assertEquals(2, j.getInt("windows"));
        assertEquals(40.0, j.getDouble("duration_seconds"), 1e-3);
        assertEquals("float32", j.getString("hidden.dtype"));
        float[] h = npy(j.getString("hidden.npy"), 1000, m.dModel()); // 750 + 250 valid tokens
        TinyModel.assertMatchesReference("encode 40 s over HTTP", m.referenceHidden(WAV_40S), h);
        assertTrue(j.getDouble("timings.encode_ms") > 0);
        assertTrue(j.getDouble("timings.features_ms") > 0);
    }

    @Test
    void encodeOverCloudEventCarriesTheContract() {
        TinyModel m = TinyModel.get();
        byte[] wav = SampleAudio.vibratoTone(16_000, 3.0, 330);
        Response r = given().contentType("application/json")
                .header("ce-specversion", "1.0").header("ce-id", "evt-encode-1").header("ce-type", "io.qwenaudio.audio.received")
                .header("ce-source", "test").header("ce-correlationid", "req-42").header("ce-environment", "ldv")
                .body(Map.of("audio", b64(wav), "generate", Map.of("prompt", "What is this?", "max_new_tokens", 5)))
                .post("/");
        r.then().statusCode(200)
                .header("ce-type", "io.qwenaudio.audio.encoded")
                .header("ce-source", "qwen-audio/encode")
                .header("ce-id", notNullValue())
                .header("ce-correlationid", "req-42")
                .header("ce-environment", "ldv")
                .body("environment", equalTo("ldv"))
                .body("request_id", equalTo("req-42"))
                .body("generate.prompt", equalTo("What is this?"))
                .body("generate.max_new_tokens", equalTo(5));
        float[] h = npy(r.jsonPath().getString("hidden.npy"), 75, m.dModel()); // 3 s: 300 frames -> 75 tokens
        TinyModel.assertMatchesReference("encode over a CloudEvent", m.referenceHidden(wav), h);
    }

    @Test
    void redeliveredEventIsAnsweredOnceWithTheSameReply() {
        byte[] wav = SampleAudio.vibratoTone(16_000, 1.0, 440);
        double before = okCount("encode");
        Response first = ce("evt-dup-1", "io.qwenaudio.audio.received", Map.of("audio", b64(wav)));
        Response second = ce("evt-dup-1", "io.qwenaudio.audio.received", Map.of("audio", b64(wav)));
        first.then().statusCode(200);
        second.then().statusCode(200);
        assertEquals(first.header("ce-id"), second.header("ce-id"));
        assertEquals(first.jsonPath().getString("hidden.npy"), second.jsonPath().getString("hidden.npy"));
        assertEquals(before + 1, okCount("encode"), "a redelivered event must not be processed again");
        Response other = ce("evt-dup-2", "io.qwenaudio.audio.received", Map.of("audio", b64(wav)));
        assertNotEquals(first.header("ce-id"), other.header("ce-id"));
    }

    @Test
    void embedPoolsAndNormalises() {
        TinyModel m = TinyModel.get();
        byte[] wav = SampleAudio.vibratoTone(16_000, 2.0, 250);
        float[] ref = m.referenceHidden(wav); // [50, d]
        int n = 50, d = m.dModel();
        JsonPath j = given().contentType("application/json")
                .body(Map.of("audio", b64(wav), "pooling", "mean", "normalize", true))
                .post("/embed").then().statusCode(200).extract().jsonPath();
        assertEquals(n, j.getInt("tokens"));
        assertEquals(d, j.getInt("dim"));
        assertEquals(2.0, j.getDouble("duration_seconds"), 1e-6);
        List<Float> e = j.getList("embedding", Float.class);
        float[] mean = new float[d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) mean[k] += ref[i * d + k] / n;
        double norm = 0;
        for (float v : mean) norm += v * v;
        norm = Math.sqrt(norm);
        float[] got = new float[d];
        for (int k = 0; k < d; k++) got[k] = e.get(k);
        for (int k = 0; k < d; k++) mean[k] /= (float) norm;
        TinyModel.assertMatchesReference("embed mean, normalised", mean, got);
        assertTrue(j.getDouble("timings.encode_ms") > 0);

        JsonPath max = given().contentType("application/json")
                .body(Map.of("audio", b64(wav), "pooling", "max", "format", "npy", "include_hidden", true))
                .post("/embed").then().statusCode(200).extract().jsonPath();
        float[] pooled = npy(max.getString("embedding_npy"), d);
        float[] hidden = npy(max.getString("hidden_npy"), n, d);
        TinyModel.assertMatchesReference("embed hidden", ref, hidden);
        for (int k = 0; k < d; k++) {
            float mx = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) mx = Math.max(mx, hidden[i * d + k]);
            assertEquals(mx, pooled[k], 0f);
        }

        JsonPath none = given().contentType("application/json").body(Map.of("audio", b64(wav), "pooling", "none"))
                .post("/embed").then().statusCode(200).extract().jsonPath();
        assertEquals(n, none.getList("hidden").size());
        assertNull(none.get("embedding"));
    }

    @Test
    void embedOverCloudEvent() {
        byte[] wav = SampleAudio.vibratoTone(16_000, 1.0, 300);
        ce("evt-embed-1", "io.qwenaudio.embedding.requested", Map.of("audio", b64(wav), "pooling", "max"))
                .then().statusCode(200).header("ce-type", "io.qwenaudio.embedding.created")
                .header("ce-correlationid", "evt-embed-1").body("pooling", equalTo("max")).body("tokens", equalTo(25));
    }

    @Test
    void concurrentRequestsAreAllAnsweredCorrectly() throws Exception {
        TinyModel m = TinyModel.get();
        int clients = 16;
        List<byte[]> clips = new ArrayList<>(); // 4 distinct clips (one 2-window), each sent by 4 clients
        for (int i = 0; i < 4; i++) clips.add(SampleAudio.vibratoTone(16_000, 4.0 + i * 11, 150 + 37 * i));
        List<float[]> refs = clips.stream().map(m::referenceHidden).toList();
        List<byte[]> wavs = new ArrayList<>();
        for (int i = 0; i < clients; i++) wavs.add(clips.get(i % 4));
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<JsonPath>> answers = new ArrayList<>();
            for (byte[] w : wavs) {
                answers.add(pool.submit(() -> given().contentType("application/json").body(Map.of("audio", b64(w)))
                        .post("/encode").then().statusCode(200).extract().jsonPath()));
            }
            for (int i = 0; i < clients; i++) {
                JsonPath j = answers.get(i).get();
                float[] ref = refs.get(i % 4);
                float[] got = npy(j.getString("hidden.npy"), ref.length / m.dModel(), m.dModel());
                TinyModel.assertMatchesReference("encode client " + i, ref, got);
            }
        } finally {
            pool.shutdownNow();
        }
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("qwen_audio_batch_size_count{stage=\"encode\""), metrics);
    }

    @Test
    void badInputGetsJsonErrors() {
        given().contentType("application/json").body(Map.of("audio", "not base64 !!")).post("/encode")
                .then().statusCode(400).body("error", equalTo("invalid_payload")).body("message", containsString("base64"));
        given().contentType("application/json").body(Map.of("audio", b64("hello, not audio".getBytes()))).post("/encode")
                .then().statusCode(422).body("error", equalTo("invalid_audio")).body("stage", equalTo("encode"))
                .body("message", containsString("accepted"));
        given().contentType("application/json").body("{}").post("/encode")
                .then().statusCode(400).body("message", containsString("'audio'"));
        given().contentType("application/json").body("{\"audio\": ").post("/encode")
                .then().statusCode(400).body("status", equalTo(400));
        given().contentType("application/json").body(Map.of("audio", b64(SampleAudio.vibratoTone(16_000, 1, 200)), "pooling", "median"))
                .post("/embed").then().statusCode(400).body("message", containsString("accepted: none, mean, max"));
        byte[] blip = SampleAudio.vibratoTone(16_000, 0.001, 200); // 16 samples: one mel frame, no audio token
        given().contentType("application/json").body(Map.of("audio", b64(blip))).post("/encode")
                .then().statusCode(422).body("message", containsString("too short"));
        given().contentType("application/json").body(Map.of("audio_ref", "file:../../etc/passwd")).post("/encode")
                .then().statusCode(400).body("error", equalTo("invalid_payload"));
    }

    @Test
    void badCloudEventsGetJsonErrorsOrPipelineFailed() {
        given().contentType("application/json").body("{}").post("/")
                .then().statusCode(400).body("error", equalTo("invalid_cloudevent")).body("message", containsString("/encode"));
        given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", "x1")
                .header("ce-source", "test").body("{}").post("/")
                .then().statusCode(400).body("message", containsString("ce-type"));
        ce("x2", "io.qwenaudio.no.such.type", Map.of()).then().statusCode(400)
                .body("message", containsString("io.qwenaudio.audio.received"));
        // a well-formed event with bad data: answered with pipeline.failed, so the broker does not retry it
        ce("x3", "io.qwenaudio.audio.received", Map.of("audio", b64("junk".getBytes()))).then().statusCode(200)
                .header("ce-type", "io.qwenaudio.pipeline.failed").header("ce-correlationid", "x3")
                .body("stage", equalTo("encode")).body("status", equalTo(422)).body("event_id", equalTo("x3"));
        given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", "x4")
                .header("ce-type", "io.qwenaudio.audio.received").header("ce-source", "test").body("{\"audio\": ")
                .post("/").then().statusCode(200).header("ce-type", "io.qwenaudio.pipeline.failed")
                .body("status", equalTo(400)).body("error", equalTo("malformed_json"));
    }

    @Test
    void healthIsUpOnceTheEncoderIsLoaded() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks[0].data.audio_encoder", containsString("ready on cpu"));
        given().get("/q/health/live").then().statusCode(200);
    }

    static Response ce(String id, String type, Object body) {
        return given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", id)
                .header("ce-type", type).header("ce-source", "test").body(body).post("/");
    }

    static double okCount(String stage) {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("qwen_audio_requests_total{") && line.contains("stage=\"" + stage + "\"")
                    && line.contains("outcome=\"ok\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }
}
