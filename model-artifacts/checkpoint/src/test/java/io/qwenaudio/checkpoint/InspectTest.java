package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectTest {

    /** Parameter counts from the config alone (the module formulas), independent of the tensor tree. */
    static long audioParams(AudioEncoderConfig a) {
        long d = a.dModel(), f = a.encoderFfnDim();
        long perLayer = 4 * d * d + 3 * d /* q,v,out biases; k has none */ + 2 * d * f + f + d + 4 * d;
        return d * a.numMelBins() * 3 + d + d * d * 3 + d + (long) a.maxSourcePositions() * d
                + a.encoderLayers() * perLayer + 2 * d;
    }

    static long lmParams(TextConfig t) {
        long h = t.hiddenSize(), q = (long) t.numAttentionHeads() * t.headDim(), kv = (long) t.numKeyValueHeads() * t.headDim();
        long perLayer = h * q + q + 2 * (h * kv + kv) + q * h + 3 * h * t.intermediateSize() + 2 * h;
        return 2L * t.vocabSize() * h + t.numHiddenLayers() * perLayer + h;
    }

    @Test
    void tinyCheckpointNumbersMatchTheFormulas(@TempDir Path dir) throws IOException {
        Qwen2AudioConfig cfg = MakeTiny.write(dir, MakeTiny.Options.tiny(5));
        try (Checkpoint cp = Checkpoint.open(dir)) {
            Inspect r = Inspect.of(cp, 4);
            long audio = audioParams(cfg.audio()), lm = lmParams(cfg.text());
            long proj = (long) cfg.text().hiddenSize() * cfg.audio().dModel() + cfg.text().hiddenSize();
            assertEquals(audio, r.parameters("audio_tower"));
            assertEquals(lm, r.parameters("language_model"));
            assertEquals(proj, r.parameters("multi_modal_projector"));
            assertEquals(audio + lm + proj, r.totalParameters());
            long sum = 0;
            for (String n : cp.names()) sum += cp.numel(n);
            assertEquals(sum, r.totalParameters());
            assertEquals("audio_tower", r.audioModule());
            assertEquals(2, r.layerCount("audio_tower"));
            assertEquals(2, r.layerCount("language_model.model"));

            JsonNode j = new ObjectMapper().readTree(r.toJsonString());
            assertEquals("Qwen2AudioForConditionalGeneration", j.get("model_class").asText());
            assertEquals(audio + lm + proj, j.get("total_parameters").asLong());
            assertEquals(List.of("fc1", "fc2", "final_layer_norm", "self_attn", "self_attn_layer_norm"),
                    j.get("audio_module").get("first_layer_children").findValuesAsText("name"));
            JsonNode at = j.get("lora_targets").get("audio_tower");
            assertEquals(List.of("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"), at.findValuesAsText("leaf"));
            for (JsonNode e : at) assertEquals(2, e.get("count").asInt());
            assertTrue(j.get("lora_targets").get("language_model").findValuesAsText("leaf").contains("o_proj"));
            assertTrue(j.get("lora_notes").get(0).asText().contains("NO o_proj"));
            JsonNode enc = j.get("encoding_strategy");
            assertEquals("audio_tower", enc.get("strategy").asText());
            assertEquals(64, enc.get("width").asInt());
            assertEquals(750, enc.get("tokens_per_30s_window").asInt());
            // collapsed layers in the tree: 2 x per-layer count
            JsonNode tower = j.get("module_tree").get("children").get(0);
            assertEquals("audio_tower", tower.get("name").asText());
            JsonNode layers = null;
            for (JsonNode c : tower.get("children")) if (c.get("name").asText().equals("layers")) layers = c;
            assertEquals(2, layers.get("repeat").asInt());
            assertEquals(r.parameters("audio_tower.layers.0"), layers.get("parameters_each").asLong());
            assertEquals(2 * layers.get("parameters_each").asLong(), layers.get("parameters").asLong());

            String text = r.toText();
            for (int step = 1; step <= 8; step++) assertTrue(text.contains("[" + step + "]"), "step " + step);
        }
    }

    @Test
    void realModelSizesFromTheSparseConfig() {
        Qwen2AudioConfig cfg = Qwen2AudioConfig.parse(ConfigTest.SPARSE, "config.json");
        Inspect r = Inspect.of(cfg, MakeTiny.weights(cfg, 0), 3); // shapes only, no tensor is generated
        assertEquals(audioParams(cfg.audio()), r.parameters("audio_tower"));
        assertEquals(636.8e6, r.parameters("audio_tower"), 0.5e6);        // "637 M"
        assertEquals(5.25e6, r.parameters("multi_modal_projector"), 0.01e6); // "5.2 M"
        assertEquals(7.75e9, r.parameters("language_model"), 0.01e9);      // "7.75 B"
        assertEquals(8.40e9, r.totalParameters(), 0.01e9);                 // "about 8.4 B"
        assertEquals(32, r.layerCount("audio_tower"));
    }

    @Test
    void fullForwardWithoutAudioModule() {
        Qwen2AudioConfig cfg = Qwen2AudioConfig.parse("{\"model_type\":\"qwen2_audio\",\"text_config\":{\"hidden_size\":8,"
                + "\"num_attention_heads\":2,\"vocab_size\":4,\"num_hidden_layers\":1,\"intermediate_size\":4}}", "c");
        InMemoryTensorSource s = new InMemoryTensorSource().put("language_model.model.norm.weight", new float[8], 8);
        Inspect r = Inspect.of(cfg, s, 3);
        assertEquals(null, r.audioModule());
        assertFalse(r.toText().contains("NO o_proj"));
        assertEquals("full_forward", r.toJson().get("encoding_strategy").get("strategy").asText());
    }
}
