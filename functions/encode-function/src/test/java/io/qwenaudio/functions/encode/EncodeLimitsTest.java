package io.qwenaudio.functions.encode;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Limits: a body over {@code qwen-audio.http.max-body-size} gets 413, and past the encoder's bounded queue
 * requests are shed with 429 + Retry-After (never 500), and the function serves normally afterwards.
 */
@QuarkusTest
@QuarkusTestResource(TinyModelResource.class)
@TestProfile(EncodeLimitsTest.Tight.class)
class EncodeLimitsTest {

    public static class Tight implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("qwen-audio.http.max-body-size", "4M",
                    "qwen-audio.encode.max-queue", "1",
                    "qwen-audio.encode.max-batch", "1",
                    "qwen-audio.audio.max-duration-seconds", "90",
                    "qwen-audio.runtime.allow-spinning", "false");
        }
    }

    @Test
    void oversizedBodyIs413() {
        byte[] big = SampleAudio.vibratoTone(16_000, 80, 200); // 2.6 MB -> 3.4 MB base64, plus JSON: over 4 MiB? no
        String body = "{\"audio\":\"" + Base64.getEncoder().encodeToString(big) + Base64.getEncoder().encodeToString(big) + "\"}";
        given().contentType("application/json").body(body).post("/encode")
                .then().statusCode(413).body("error", equalTo("payload_too_large"))
                .body("message", containsString("qwen-audio.http.max-body-size"));
    }

    @Test
    void tooLongAudioIs422() {
        byte[] wav = SampleAudio.vibratoTone(8_000, 95, 200); // 95 s > 90 s, 1.5 MB
        given().contentType("application/json").body(Map.of("audio", Base64.getEncoder().encodeToString(wav))).post("/encode")
                .then().statusCode(422).body("message", containsString("at most 90.0 s"));
    }

    @Test
    void overloadIsShedWith429AndRecovers() throws Exception {
        String body = "{\"audio\":\"" + Base64.getEncoder().encodeToString(SampleAudio.vibratoTone(8_000, 85, 180)) + "\"}"; // 3 windows
        int clients = 16;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<Response>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                answers.add(pool.submit(() -> given().contentType("application/json").body(body).post("/encode")));
            }
            int ok = 0, shed = 0;
            for (Future<Response> f : answers) {
                Response r = f.get();
                if (r.statusCode() == 200) {
                    ok++;
                } else {
                    assertEquals(429, r.statusCode(), r.asString());
                    assertTrue(Integer.parseInt(r.header("Retry-After")) >= 1);
                    assertEquals("overloaded", r.jsonPath().getString("error"));
                    shed++;
                }
            }
            assertTrue(ok >= 1, "some requests must be served");
            assertTrue(shed >= 1, "with a queue of 1 window, 16 clients of 3 windows must be shed, got " + ok + " ok");
        } finally {
            pool.shutdownNow();
        }
        given().contentType("application/json").body(body).post("/encode").then().statusCode(200).body("windows", equalTo(3));
    }
}
