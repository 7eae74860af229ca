package io.qwenaudio.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigTest {

    /** Same fields as the published Qwen2-Audio-7B-Instruct config.json (sparse audio_config). */
    static final String SPARSE = """
            {
              "architectures": ["Qwen2AudioForConditionalGeneration"],
              "audio_config": {"model_type": "qwen2_audio_encoder"},
              "audio_token_index": 151646,
              "model_type": "qwen2_audio",
              "text_config": {
                "bos_token_id": 151643,
                "eos_token_id": 151645,
                "intermediate_size": 11008,
                "max_position_embeddings": 8192,
                "model_type": "qwen2",
                "rms_norm_eps": 1e-05,
                "torch_dtype": "bfloat16",
                "use_mrope": false,
                "vocab_size": 156032
              },
              "torch_dtype": "bfloat16",
              "transformers_version": "4.45.0.dev0"
            }
            """;

    @Test
    void sparseConfigGetsTheRealModelValues() {
        Qwen2AudioConfig c = Qwen2AudioConfig.parse(SPARSE, "config.json");
        AudioEncoderConfig a = c.audio();
        assertEquals(1280, a.dModel());
        assertEquals(32, a.encoderLayers());
        assertEquals(20, a.encoderAttentionHeads());
        assertEquals(64, a.headDim());
        assertEquals(5120, a.encoderFfnDim());
        assertEquals(128, a.numMelBins());
        assertEquals(1500, a.maxSourcePositions());
        assertEquals("gelu", a.activationFunction());
        assertFalse(a.scaleEmbedding());
        TextConfig t = c.text();
        assertEquals(156032, t.vocabSize());
        assertEquals(4096, t.hiddenSize());
        assertEquals(32, t.numHiddenLayers());
        assertEquals(32, t.numAttentionHeads());
        assertEquals(32, t.numKeyValueHeads());
        assertEquals(128, t.headDim());
        assertEquals(11008, t.intermediateSize());
        assertEquals(8192, t.maxPositionEmbeddings());
        assertEquals(1e-5, t.rmsNormEps());
        assertEquals(10000.0, t.ropeTheta());
        assertEquals("silu", t.hiddenAct());
        assertFalse(t.tieWordEmbeddings());
        assertEquals(151643, t.bosTokenId());
        assertEquals(151645, t.eosTokenId());
        assertEquals(151646, c.audioTokenIndex());
        assertEquals(List.of("Qwen2AudioForConditionalGeneration"), c.architectures());
    }

    @Test
    void absentSubConfigsTakeTransformersDefaults() {
        Qwen2AudioConfig c = Qwen2AudioConfig.parse("{\"model_type\":\"qwen2_audio\"}", "x");
        assertEquals(1280, c.audio().dModel());
        assertEquals(151936, c.text().vocabSize());
        assertEquals(22016, c.text().intermediateSize());
        assertEquals(32768, c.text().maxPositionEmbeddings());
        assertEquals(1e-6, c.text().rmsNormEps());
        assertEquals(151646, c.audioTokenIndex());
        assertNull(c.text().bosTokenId());
    }

    @Test
    void explicitHeadDimKvHeadsAndRopeParameters() {
        Qwen2AudioConfig c = Qwen2AudioConfig.parse("""
                {"model_type":"qwen2_audio","text_config":{"hidden_size":96,"num_attention_heads":6,
                 "num_key_value_heads":2,"head_dim":32,"rope_parameters":{"rope_theta":1000000.0,"rope_type":"default"},
                 "eos_token_id":[7,8]},"audio_token_id":5}""", "x");
        assertEquals(32, c.text().headDim());
        assertEquals(2, c.text().numKeyValueHeads());
        assertEquals(1e6, c.text().ropeTheta());
        assertEquals(7, c.text().eosTokenId());
        assertEquals(5, c.audioTokenIndex());
    }

    @Test
    void rejectsOtherModelTypes() {
        var e = assertThrows(CheckpointException.class,
                () -> Qwen2AudioConfig.parse("{\"model_type\":\"whisper\"}", "config.json"));
        assertTrue(e.getMessage().contains("'whisper'") && e.getMessage().contains("qwen2_audio"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Qwen2AudioConfig.parse("{}", "config.json"));
        assertTrue(e.getMessage().contains("model_type is absent"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Qwen2AudioConfig.parse(
                "{\"model_type\":\"qwen2_audio\",\"text_config\":{\"model_type\":\"llama\"}}", "c"));
        assertTrue(e.getMessage().contains("text_config.model_type is 'llama'"), e.getMessage());
    }

    @Test
    void rejectsBadJsonAndBadValues(@TempDir Path dir) throws Exception {
        var e = assertThrows(CheckpointException.class, () -> Qwen2AudioConfig.parse("{\"model_type\":", "config.json"));
        assertTrue(e.getMessage().startsWith("config.json is not valid JSON"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Qwen2AudioConfig.parse(
                "{\"model_type\":\"qwen2_audio\",\"audio_config\":{\"d_model\":\"big\"}}", "c"));
        assertTrue(e.getMessage().contains("d_model must be an integer"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Qwen2AudioConfig.parse(
                "{\"model_type\":\"qwen2_audio\",\"audio_config\":{\"d_model\":100,\"encoder_attention_heads\":3}}", "c"));
        assertTrue(e.getMessage().contains("not divisible"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> Qwen2AudioConfig.read(dir));
        assertTrue(e.getMessage().startsWith("missing config.json"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), SPARSE);
        assertEquals(4096, Qwen2AudioConfig.read(dir).text().hiddenSize());
    }
}
