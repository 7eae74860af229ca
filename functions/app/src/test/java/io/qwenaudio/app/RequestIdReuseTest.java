package io.qwenaudio.app;

import io.qwenaudio.audio.SampleAudio;
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
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reused id never hands one request another's answer: {@code request_id} of describe is remembered with a
 * fingerprint of the request (a different payload under the same id is 409 naming {@code request_id}; the same payload
 * is answered with the same reply), CloudEvents are de-duplicated by (source, type, id), and concurrent requests that
 * share ids each get their own answer or a 409.
 */
@QuarkusTest
@QuarkusTestResource(value = TinyModelResource.class, restrictToAnnotatedClass = true)
class RequestIdReuseTest {

    record Ask(byte[] audio, String prompt, int maxNewTokens) {
    }

    static Response describe(Ask a, String requestId) {
        var r = given().contentType("audio/wav").body(a.audio()).queryParam("prompt", a.prompt())
                .queryParam("greedy", true).queryParam("max_new_tokens", a.maxNewTokens());
        if (requestId != null) r = r.queryParam("request_id", requestId);
        return r.post("/v1/audio/describe");
    }

    static final Ask A = new Ask(SampleAudio.vibratoTone(16_000, 1.0, 220), "What does the person say?", 3);
    static final Ask B = new Ask(SampleAudio.vibratoTone(16_000, 2.0, 330), "Describe the sound.", 6);

    @Test
    void sameIdOtherPayloadIs409AndSamePayloadIsTheSameAnswer() {
        String id = "reuse-" + UUID.randomUUID();
        List<Integer> first = describe(A, id).then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        describe(B, id).then().statusCode(409).body("param", equalTo("request_id")).body("error", equalTo("id_conflict"));
        describe(new Ask(A.audio(), A.prompt(), 5), id).then().statusCode(409).body("param", equalTo("request_id"));
        assertEquals(first, describe(A, id).then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class));
        // the JSON body form is fingerprinted too
        Map<String, Object> json = Map.of("audio", Base64.getEncoder().encodeToString(B.audio()), "request_id", id,
                "generate", Map.of("prompt", B.prompt(), "max_new_tokens", B.maxNewTokens(), "greedy", true));
        given().contentType("application/json").body(json).post("/v1/audio/describe").then().statusCode(409)
                .body("param", equalTo("request_id"));
    }

    @Test
    void concurrentRequestsSharingIdsNeverSeeEachOthersAnswers() throws Exception {
        List<Integer> wantA = describe(A, null).then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        List<Integer> wantB = describe(B, null).then().statusCode(200).extract().jsonPath().getList("token_ids", Integer.class);
        assertNotEquals(wantA, wantB, "the two requests must have different answers for this test to mean anything");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Response>> answers = new ArrayList<>();
            List<Ask> asked = new ArrayList<>();
            String run = UUID.randomUUID().toString();
            for (int i = 0; i < 12; i++) {
                String id = "shared-" + run + "-" + i / 2; // requests 2k and 2k+1 share an id
                Ask ask = i % 2 == 0 ? A : B;
                asked.add(ask);
                answers.add(pool.submit(() -> describe(ask, id)));
            }
            int own = 0, conflicts = 0;
            for (int i = 0; i < answers.size(); i++) {
                Response r = answers.get(i).get();
                if (r.statusCode() == 409) {
                    assertEquals("request_id", r.jsonPath().getString("param"));
                    conflicts++;
                    continue;
                }
                assertEquals(200, r.statusCode(), r.asString());
                List<Integer> ids = r.jsonPath().getList("token_ids", Integer.class);
                assertEquals(asked.get(i) == A ? wantA : wantB, ids, "request " + i + " got another request's answer");
                own++;
            }
            assertEquals(6, conflicts, "one of each pair sharing an id is refused");
            assertEquals(6, own);
        } finally {
            pool.shutdownNow();
        }
    }

    static Response event(String id, String source, byte[] audio) {
        return given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", id)
                .header("ce-type", "io.qwenaudio.audio.received").header("ce-source", source)
                .body(Map.of("audio", Base64.getEncoder().encodeToString(audio))).post("/");
    }

    @Test
    void cloudEventsAreDeduplicatedBySourceTypeAndId() {
        String id = "evt-" + UUID.randomUUID();
        byte[] oneSecond = SampleAudio.vibratoTone(16_000, 1.0, 220);
        byte[] threeSeconds = SampleAudio.vibratoTone(16_000, 3.0, 220);
        Response a = event(id, "source-a", oneSecond);
        a.then().statusCode(200).header("ce-type", "io.qwenaudio.audio.encoded");
        Response b = event(id, "source-b", threeSeconds);
        b.then().statusCode(200).header("ce-type", "io.qwenaudio.audio.encoded");
        JsonPath ja = a.jsonPath(), jb = b.jsonPath();
        assertEquals(1.0, ja.getDouble("duration_seconds"), 1e-3);
        assertEquals(3.0, jb.getDouble("duration_seconds"), 1e-3, "another source's event with the same id is its own event");
        assertNotEquals(a.header("ce-id"), b.header("ce-id"));
        // a redelivery of the first is answered from the cache: same reply id, same data
        Response again = event(id, "source-a", oneSecond);
        assertEquals(a.header("ce-id"), again.header("ce-id"));
        assertEquals(ja.getString("hidden.npy"), again.jsonPath().getString("hidden.npy"));
        // the same id and source with another type is another event too
        Response embed = given().contentType("application/json").header("ce-specversion", "1.0").header("ce-id", id)
                .header("ce-type", "io.qwenaudio.embedding.requested").header("ce-source", "source-a")
                .body(Map.of("audio", Base64.getEncoder().encodeToString(threeSeconds))).post("/");
        embed.then().statusCode(200).header("ce-type", "io.qwenaudio.embedding.created");
        assertTrue(embed.jsonPath().getDouble("duration_seconds") > 2.9);
    }
}
