package io.qwenaudio.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.testing.BadInputs;
import io.qwenaudio.testing.RawHttp;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays the generated corpus of bad requests ({@link BadInputs}) through every public HTTP entry of the app:
 * {@code /v1/audio/describe}, {@code /v1/chat/completions}, each stage function over plain HTTP, over binary-mode and
 * over structured-mode CloudEvents, and the routing itself. For each: the documented status (a 4xx, or the documented
 * 2xx: {@code pipeline.failed} for a CloudEvent a stage cannot serve), a JSON body whose message names the problem (the
 * OpenAI shape with {@code param} on the OpenAI route), an answer within a few seconds; the app is ready afterwards.
 */
@QuarkusTest
@QuarkusTestResource(value = TinyModelResource.class, restrictToAnnotatedClass = true)
@TestProfile(BadInputCorpusTest.Profile.class)
class BadInputCorpusTest {

    /** A short body timeout, so the stalled-upload cases answer within the few seconds every case is allowed. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("qwen-audio.http.body-timeout", "2s");
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();
    /** An error answer later than this is a hang (the stalled uploads wait out the 2 s body timeout). */
    static final long MAX_MILLIS = 5_000;

    @TestHTTPResource("/")
    URL base;

    @Test
    void everyBadInputGetsAClearFastAnswer() throws Exception {
        TinyModel m = TinyModel.get();
        byte[] wav = SampleAudio.vibratoTone(16_000, 1.0, 220);
        List<BadInputs.Case> corpus = new ArrayList<>(new BadInputs(m.dModel(), wav).all(100));
        // in the app GET / is the playground page (PlaygroundTest), not a 405 as in the stage functions
        assertTrue(corpus.removeIf(c -> c.name().equals("GET /")));
        given().get("/").then().statusCode(200);
        assertTrue(corpus.size() >= 60, "corpus of " + corpus.size());
        RawHttp http = new RawHttp(base.getHost(), base.getPort(), 30_000);
        List<String> wrong = new ArrayList<>();
        Map<BadInputs.Kind, Integer> byKind = new EnumMap<>(BadInputs.Kind.class);
        Map<String, Integer> byEntry = new TreeMap<>();
        int fiveXx = 0;
        long maxMillis = 0;
        String slowest = "";
        for (BadInputs.Case c : corpus) {
            RawHttp.Answer a = http.send(c.request());
            byKind.merge(c.kind(), 1, Integer::sum);
            byEntry.merge(c.entry().replaceAll(" param=.*", ""), 1, Integer::sum);
            if (a.status() >= 500 || a.status() < 0) fiveXx++;
            if (a.millis() > maxMillis) {
                maxMillis = a.millis();
                slowest = c.entry() + " / " + c.name();
            }
            String problem = check(c, a);
            if (problem != null) wrong.add(c.entry() + " / " + c.name() + ": " + problem);
        }
        System.out.printf(Locale.ROOT, "bad-input corpus: %d inputs tried, %d answered 5xx or not at all, max error-answer "
                + "latency %d ms (%s)%n  by kind %s%n  by entry %s%n", corpus.size(), fiveXx, maxMillis, slowest, byKind, byEntry);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        assertEquals(List.of(), wrong, wrong.size() + " of " + corpus.size() + " cases answered wrongly");
        assertEquals(0, fiveXx);
    }

    /**
     * A JSON string longer than Jackson's default limit (20 M characters) but inside the body limit is parsed, not
     * refused as "not valid JSON": the limits agree (here the base64 decodes to 15 MB of zeros, which is no audio).
     */
    @Test
    void aLongBase64FieldInsideTheBodyLimitIsParsed() throws Exception {
        StringBuilder b = new StringBuilder(21_000_100).append("{\"audio\":\"");
        b.append("A".repeat(21_000_000)).append("\"}");
        RawHttp http = new RawHttp(base.getHost(), base.getPort(), 60_000);
        RawHttp.Answer a = http.send(RawHttp.Request.withBody("POST", "/encode", Map.of("content-type", "application/json"),
                b.toString().getBytes(StandardCharsets.US_ASCII)));
        assertEquals(422, a.status(), a.text());
        assertTrue(a.text().contains("unrecognised audio format"), a.text());
    }

    /** What is wrong with the answer to {@code c}, or null. */
    static String check(BadInputs.Case c, RawHttp.Answer a) throws Exception {
        String got = a.status() + " " + abbreviate(a.text());
        if (a.status() < 0) return "no answer within " + a.millis() + " ms";
        if (a.millis() > MAX_MILLIS) return "answered after " + a.millis() + " ms: " + got;
        if (c.status() == 0 ? a.status() < 400 || a.status() >= 500 : a.status() != c.status()) {
            return "expected " + (c.status() == 0 ? "a 4xx" : c.status()) + ", got " + got;
        }
        if (c.status() == 200 && !c.failureInside()) return null; // the documented 2xx
        String ct = a.header("content-type");
        if (ct == null || !ct.startsWith("application/json") && !ct.startsWith("application/cloudevents+json")) {
            return "not JSON (" + ct + "): " + got;
        }
        JsonNode body = JSON.readTree(a.body());
        String message;
        String path = c.request().path();
        if (path.startsWith("/v1/chat/completions") || path.startsWith("/v1/models")) { // the OpenAI API's own error shape
            JsonNode e = body.get("error");
            if (e == null) return "not OpenAI's error shape: " + got;
            message = e.path("message").asText("");
            if (!e.has("param") || !e.has("type") || !e.has("code")) return "OpenAI error without param/type/code: " + got;
            int i = c.entry().indexOf(" param=");
            if (i >= 0 && !c.entry().substring(i + 7).equals(e.path("param").asText(null))) {
                return "param should be " + c.entry().substring(i + 7) + ": " + got;
            }
        } else if (c.failureInside()) {
            JsonNode f = body.has("data") && body.has("specversion") ? body.get("data") : body; // structured / binary
            String type = body.has("type") ? body.path("type").asText() : a.header("ce-type");
            if (!"io.qwenaudio.pipeline.failed".equals(type)) return "expected a pipeline.failed event, got " + type + ": " + got;
            int inner = f.path("status").asInt();
            if (inner < 400 || inner >= 500) return "pipeline.failed carries status " + inner + ": " + got;
            message = f.path("message").asText("");
        } else {
            if (!body.has("status") || !body.has("error") || !body.has("stage") || body.path("status").asInt() != a.status()) {
                return "not the documented Failure: " + got;
            }
            if (body.path("stage").asText().equals("v1")) return "stage 'v1': " + got;
            message = body.path("message").asText("");
        }
        if (message.isBlank()) return "empty message: " + got;
        if (c.mentions() != null && !message.toLowerCase(Locale.ROOT).contains(c.mentions().toLowerCase(Locale.ROOT))) {
            return "message does not mention '" + c.mentions() + "': " + got;
        }
        if (a.status() == 405 && a.header("allow") == null) return "405 without Allow: " + got;
        return null;
    }

    static String abbreviate(String s) {
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }
}
