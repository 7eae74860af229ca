package io.qwenaudio.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.audio.Features;
import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.diagnostics.HeatMap;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.reference.ReferenceAdapter;
import io.qwenaudio.reference.ReferenceModel;
import io.qwenaudio.testing.TinyModel;
import io.qwenaudio.testing.TinyModelResource;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;
import io.qwenaudio.text.Tokenizer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code POST /v1/audio/diagnostics} on the tiny model with real speech: the shape of every panel, the adapter's
 * gate, relative change and attention maps against the naive {@link ReferenceAdapter} on the same encoder output,
 * the hidden-state norms against the reference decoder, and a report whose size does not grow with the clip.
 */
@QuarkusTest
@QuarkusTestResource(value = TinyModelResource.class, restrictToAnnotatedClass = true)
class DiagnosticsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final double BOUND = 1e-4;
    static byte[] speech;

    @BeforeAll
    static void speech() {
        speech = TinyModel.speechWav("The quick brown fox jumps over the lazy dog.");
        assertNotNull(speech, "espeak-ng is needed for the speech clip (apt-get install espeak-ng)");
    }

    static JsonNode diagnose(byte[] audio, Map<String, ?> query) throws Exception {
        Response r = given().contentType("application/octet-stream").body(audio).queryParams(query)
                .post("/v1/audio/diagnostics");
        assertEquals(200, r.statusCode(), r.asString());
        return JSON.readTree(r.asByteArray());
    }

    static float[] values(JsonNode map) {
        return new HeatMap(map.get("rows").asInt(), map.get("cols").asInt(), map.get("source_rows").asInt(),
                map.get("source_cols").asInt(), (float) map.get("min").asDouble(), (float) map.get("max").asDouble(),
                map.get("f32").asText()).values();
    }

    static float[] floats(JsonNode array) {
        float[] f = new float[array.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) array.get(i).asDouble();
        return f;
    }

    /** The server's encoder output [N, d] for the clip, through /embed (the same encoder, deterministic). */
    static float[] serverHidden(byte[] audio, int d) throws Exception {
        String body = given().contentType("application/json")
                .body(Map.of("audio", Base64.getEncoder().encodeToString(audio), "pooling", "none"))
                .post("/embed").then().statusCode(200).extract().asString();
        JsonNode rows = JSON.readTree(body).get("hidden");
        float[] x = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(floats(rows.get(i)), 0, x, i * d, d);
        return x;
    }

    @Test
    void everyPanelHasItsShape() throws Exception {
        TinyModel m = TinyModel.get();
        int d = m.dModel();
        JsonNode r = diagnose(speech, Map.of("environment", TinyModel.LDV, "prompt", "What does the person say?"));
        Features f = TinyModel.features(speech);
        int n = AudioEncoder.validTokens(f.melLength(0));
        assertEquals(1, r.get("windows").asInt());
        assertEquals(n, r.get("tokens").asInt());
        assertEquals(d, r.get("d_model").asInt());
        assertEquals(f.durationSeconds(), r.get("duration_seconds").asDouble(), 1e-9);

        JsonNode w = r.at("/mel/windows/0");
        assertEquals(f.melLength(0), w.get("valid_frames").asInt());
        JsonNode mel = w.get("map");
        assertEquals(128, mel.get("rows").asInt());
        assertEquals(600, mel.get("cols").asInt());
        assertEquals(3000, mel.get("source_cols").asInt());
        // the server's averaged map is the window's features averaged the same way
        float[] want = HeatMap.of(f.window(0), 128, 3000, 128, 600).values();
        assertEquals(0, Parity.relError(want, values(mel)), 1e-6);

        JsonNode enc = r.get("encoder");
        assertEquals(n, enc.at("/map/source_rows").asInt());
        assertEquals(d, enc.at("/map/source_cols").asInt());
        assertEquals(Math.min(n, 256), enc.at("/map/rows").asInt());
        assertEquals(n, enc.at("/token_norms/source_length").asInt());
        assertEquals(Math.min(n, 1000), enc.at("/token_norms/values").size());
        float[] x = serverHidden(speech, d);
        float[] norms = floats(enc.at("/token_norms/values"));
        float[] mean = new float[d];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                ss += (double) x[i * d + c] * x[i * d + c];
                mean[c] += x[i * d + c] / n;
            }
            assertEquals(Math.sqrt(ss), norms[i], 1e-4 * Math.sqrt(ss));
        }
        assertEquals(0, Parity.relError(mean, floats(r.get("embedding"))), 1e-5);

        JsonNode hs = r.get("hidden_states");
        assertEquals(m.config.text().numHiddenLayers() + 1, hs.get("layers").asInt());
        assertEquals(n, hs.get("audio_length").asInt());
        assertEquals(hs.get("layers").asInt(), hs.get("audio_norms").size());
        assertEquals(hs.get("positions").asInt(), hs.at("/map/source_cols").asInt());

        JsonNode t = r.get("timings");
        for (String k : List.of("decode_ms", "features_ms", "encode_ms", "adapt_ms", "attention_ms", "hidden_states_ms")) {
            assertTrue(t.has(k), k + " missing from " + t);
        }
    }

    @Test
    void gateRelativeChangeAndAttentionMatchTheReferenceAdapter() throws Exception {
        TinyModel m = TinyModel.get();
        int d = m.dModel();
        JsonNode r = diagnose(speech, Map.of("environment", TinyModel.LDV, "hidden_states", false));
        int n = r.get("tokens").asInt();
        float[] x = serverHidden(speech, d);
        assertEquals(n * d, x.length);
        Path dir = m.adapterDirs.get(TinyModel.LDV);
        ReferenceAdapter.Result ref;
        List<float[]> att;
        DomainAdapterConfig cfg = DomainAdapterConfig.read(dir);
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir)) {
            ReferenceAdapter a = new ReferenceAdapter(cfg, w);
            ref = a.forward(x, n);
            att = a.attentionWeights(x, n);
        }
        JsonNode ad = r.get("adapter");
        assertEquals(TinyModel.LDV, ad.get("environment").asText());
        assertEquals(1, ad.get("gate_width").asInt());
        assertEquals(n, ad.at("/gate/source_length").asInt());
        double gateErr = Parity.relError(ref.gate(), floats(ad.at("/gate/values")));
        float[] change = new float[n];
        for (int i = 0; i < n; i++) {
            double dd = 0, xx = 0;
            for (int c = 0; c < d; c++) {
                double diff = ref.out()[i * d + c] - x[i * d + c];
                dd += diff * diff;
                xx += (double) x[i * d + c] * x[i * d + c];
            }
            change[i] = (float) Math.sqrt(dd / xx);
        }
        double changeErr = Parity.relError(change, floats(ad.at("/relative_change/values")));
        System.out.printf("diagnostics vs reference adapter (N=%d): gate %.3e, relative change %.3e%n", n, gateErr, changeErr);
        assertTrue(gateErr <= BOUND, "gate relative error " + gateErr);
        assertTrue(changeErr <= 1e-3, "relative change error " + changeErr);

        JsonNode a = ad.get("attention");
        assertNotNull(a, ad.toString());
        assertEquals(cfg.numLayers(), a.get("layers").asInt());
        assertEquals(cfg.numHeads(), a.get("heads").asInt());
        assertEquals(n, a.get("tokens").asInt());
        for (int l = 0; l < cfg.numLayers(); l++) {
            for (int h = 0; h < cfg.numHeads(); h++) {
                JsonNode map = a.at("/maps/" + l + "/" + h);
                assertEquals(n, map.get("source_rows").asInt());
                float[] want = HeatMap.of(att.get(l), h * n * n, n, n, 96, 96).values();
                double err = Parity.relError(want, values(map));
                System.out.printf("diagnostics vs reference adapter: layer %d head %d attention %.3e%n", l, h, err);
                assertTrue(err <= BOUND, "layer " + l + " head " + h + " attention relative error " + err);
            }
        }
    }

    @Test
    void hiddenStateNormsMatchTheReferenceDecoder() throws Exception {
        TinyModel m = TinyModel.get();
        int d = m.dModel();
        String prompt = "Describe the sound.";
        JsonNode r = diagnose(speech, Map.of("prompt", prompt, "attention", false));
        assertTrue(r.get("adapter") == null || r.get("adapter").isNull(), "no environment, no adapter panel");
        int n = r.get("tokens").asInt();
        float[] x = serverHidden(speech, d);
        Manifest manifest = Manifest.read(m.artifacts);
        PromptBuilder.Prompt p;
        try (Tokenizer t = Tokenizer.load(m.artifacts)) {
            p = new PromptBuilder(t, manifest.specialTokens().audioTokenId())
                    .build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(prompt))), new int[] {n});
        }
        float[][] hidden;
        try (Checkpoint w = Checkpoint.open(m.checkpoint)) {
            ReferenceModel ref = m.referenceModel(w);
            float[] embeds = ref.inputsEmbeds(p.ids(), m.referenceProjected(x, n), n);
            hidden = ref.decoder().forward(embeds, p.length()).hiddenStates();
        }
        JsonNode hs = r.get("hidden_states");
        assertEquals(hidden.length, hs.get("layers").asInt());
        assertEquals(p.length(), hs.get("positions").asInt());
        assertEquals(p.audioStart()[0], hs.get("audio_start").asInt());
        int s = p.length(), h = m.hiddenSize();
        float[] audio = new float[hidden.length], text = new float[hidden.length];
        for (int l = 0; l < hidden.length; l++) {
            double a = 0, t = 0;
            for (int pos = 0; pos < s; pos++) {
                double ss = 0;
                for (int c = 0; c < h; c++) ss += (double) hidden[l][pos * h + c] * hidden[l][pos * h + c];
                if (pos >= p.audioStart()[0] && pos < p.audioStart()[0] + n) a += Math.sqrt(ss);
                else t += Math.sqrt(ss);
            }
            audio[l] = (float) (a / n);
            text[l] = (float) (t / (s - n));
        }
        double ea = Parity.relError(audio, floats(hs.get("audio_norms"))), et = Parity.relError(text, floats(hs.get("text_norms")));
        System.out.printf("diagnostics vs reference decoder: audio norms %.3e, text norms %.3e%n", ea, et);
        assertTrue(ea <= 1e-3 && et <= 1e-3, "hidden-state norms differ: audio " + ea + ", text " + et);
    }

    @Test
    void aTenMinuteClipGivesABoundedReport() throws Exception {
        byte[] tenMinutes = SampleAudio.voicedGlide(16_000, 600, 1);
        Response r = given().contentType("audio/wav").body(tenMinutes).post("/v1/audio/diagnostics");
        assertEquals(200, r.statusCode(), r.asString());
        byte[] body = r.asByteArray();
        JsonNode j = JSON.readTree(body);
        byte[] short30 = given().contentType("audio/wav").body(SampleAudio.voicedGlide(16_000, 30, 1))
                .post("/v1/audio/diagnostics").then().statusCode(200).extract().asByteArray();
        System.out.printf("diagnostics report: %d bytes for 600 s (%d tokens), %d bytes for 30 s%n", body.length,
                j.get("tokens").asInt(), short30.length);
        assertEquals(20, j.get("windows").asInt());
        assertEquals(20, j.at("/mel/windows").size());
        int cols = 160_000 / (20 * 128);
        for (JsonNode w : j.at("/mel/windows")) assertEquals(cols, w.at("/map/cols").asInt());
        assertEquals(256, j.at("/encoder/map/rows").asInt());
        assertEquals(1000, j.at("/encoder/token_norms/values").size());
        assertTrue(j.get("tokens").asInt() > 14_000);
        assertTrue(j.get("hidden_states_skipped").asText().contains("positions"), j.get("hidden_states_skipped").asText());
        assertTrue(body.length < 1_200_000, "report of " + body.length + " bytes");
        assertTrue(body.length < 2 * short30.length, "a 10-minute report (" + body.length + " B) should be about the size of a "
                + "30 s one (" + short30.length + " B)");
    }

    @Test
    void longClipsSkipTheAttentionMapsAndSayWhy() throws Exception {
        JsonNode r = diagnose(SampleAudio.voicedGlide(16_000, 70, 1), Map.of("environment", TinyModel.PIEZO,
                "hidden_states", false));
        JsonNode ad = r.get("adapter");
        assertTrue(ad.get("attention") == null, "no maps past the token limit");
        assertTrue(ad.get("attention_skipped").asText().contains("attention-tokens"), ad.get("attention_skipped").asText());
        assertEquals(r.get("tokens").asInt(), ad.at("/gate/source_length").asInt());
        assertEquals(1000, ad.at("/gate/values").size());
        assertEquals("not requested", r.get("hidden_states_skipped").asText());
    }

    @Test
    void errorsAreTheApiFailureJson() {
        given().contentType("application/octet-stream").body("just some notes, not audio".getBytes())
                .post("/v1/audio/diagnostics").then().statusCode(422).body("error", equalTo("invalid_audio"))
                .body("stage", equalTo("diagnostics"));
        given().contentType("audio/wav").body(speech).queryParam("environment", "mars").post("/v1/audio/diagnostics")
                .then().statusCode(422).body("error", equalTo("unknown_environment")).body("message", containsString("ldv"));
        given().contentType("audio/wav").body(speech).queryParam("raw_prompt", "no audio marker here")
                .post("/v1/audio/diagnostics").then().statusCode(400);
        given().get("/v1/audio/environments").then().statusCode(200)
                .body("environments", equalTo(List.of(TinyModel.LDV, TinyModel.PIEZO)));
    }
}
