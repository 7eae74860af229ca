package io.qwenaudio.app;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.converter.DemoModel;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's first run: no model configured, so the app serves the demo model that `qwen-audio demo-model` made, answers
 * a sample request through the chain at start, and serves requests.
 */
@QuarkusTest
@TestProfile(DemoModelTest.NoModel.class)
class DemoModelTest {

    static final Path DIR;

    static {
        // the test class is loaded by JUnit and again by Quarkus: share one directory through a system property
        String key = "demo-model-test.dir"; // not under qwen-audio.*: that namespace is validated
        if (System.getProperty(key) == null) {
            try {
                Path dir = Files.createTempDirectory("qwen-audio-demo-test");
                DemoModel.make(dir, null); // what the README's run command does with `qwen-audio demo-model`
                System.setProperty(key, dir.toString());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        DIR = Path.of(System.getProperty(key));
    }

    public static class NoModel implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("qwen-audio.demo.dir", DIR.toString());
        }
    }

    @Test
    void demoModelIsMadeOnFirstStartAndServes() {
        assertTrue(Files.isRegularFile(DIR.resolve("artifacts/manifest.json")), "the demo artifacts are made at start");
        assertTrue(Files.isRegularFile(DIR.resolve("checkpoint/config.json")));
        given().contentType("audio/wav").body(SampleAudio.vibratoTone(16_000, 3.0, 220)).queryParam("max_new_tokens", 5)
                .queryParam("environment", "ldv").post("/v1/audio/describe")
                .then().statusCode(200).body("usage.completion_tokens", greaterThan(0)).body("adapter.environment", equalTo("ldv"));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        String metrics = given().get("/q/metrics").then().extract().asString();
        assertTrue(metrics.contains("qwen_audio_requests_total{outcome=\"ok\",stage=\"generate\"}"), "the start-up sample request ran");
    }
}
