package io.qwenaudio.checkpoint;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MakeTinyTest {

    @TempDir
    static Path tmp;
    static Path tiny;
    static Qwen2AudioConfig cfg;

    @BeforeAll
    static void generate() throws IOException {
        tiny = tmp.resolve("tiny");
        cfg = MakeTiny.write(tiny, MakeTiny.Options.tiny(7).withLora(tmp.resolve("lora")).withAdapter(tmp.resolve("adapter")));
    }

    static Map<String, String> digests(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                out.put(p.getFileName().toString(), HexFormat.of().formatHex(md.digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWeights() throws Exception {
        Path again = tmp.resolve("again");
        MakeTiny.write(again, MakeTiny.Options.tiny(7));
        assertEquals(digests(tiny), digests(again));
        Path other = tmp.resolve("other");
        MakeTiny.write(other, MakeTiny.Options.tiny(8));
        Map<String, String> a = digests(tiny), b = digests(other);
        assertEquals(a.keySet(), b.keySet());
        assertEquals(a.get("config.json"), b.get("config.json"));
        assertEquals(a.get("tokenizer.json"), b.get("tokenizer.json"));
        for (String k : a.keySet()) {
            if (k.startsWith("model-")) assertNotEquals(a.get(k), b.get(k), k);
        }
    }

    @Test
    void checkpointIsShardedBf16WithEveryModelTensor() {
        try (Checkpoint cp = Checkpoint.open(tiny)) {
            assertTrue(cp.files().size() >= 2, "shards: " + cp.files().size());
            assertTrue(Files.exists(tiny.resolve(Checkpoint.INDEX_FILE)));
            assertEquals(KeyLayout.HUB, cp.layout());
            Map<String, long[]> want = MakeTiny.shapes(cfg);
            assertEquals(want.keySet(), cp.names());
            for (String n : cp.names()) {
                assertEquals("BF16", cp.dtype(n), n);
                assertArrayEquals(want.get(n), cp.shape(n), n);
            }
            // key names as in transformers: k_proj without bias, out_proj (not o_proj) in the audio tower
            assertTrue(cp.has("audio_tower.layers.1.self_attn.out_proj.bias"));
            assertTrue(!cp.has("audio_tower.layers.0.self_attn.k_proj.bias"));
            assertTrue(!cp.has("language_model.model.layers.0.self_attn.o_proj.bias"));
            assertArrayEquals(new long[]{64, 128, 3}, cp.shape("audio_tower.conv1.weight"));
            assertArrayEquals(new long[]{32, 64}, cp.shape("language_model.model.layers.1.self_attn.k_proj.weight"));
            // weights are not degenerate and positions are Whisper sinusoids (bf16-rounded)
            float[] q = cp.floats("audio_tower.layers.0.self_attn.q_proj.weight");
            double ss = 0;
            for (float v : q) ss += v * v;
            double std = Math.sqrt(ss / q.length);
            assertTrue(std > 0.05 && std < 0.1, "std " + std);
            float[] pos = cp.floats("audio_tower.embed_positions.weight");
            float[] exact = MakeTiny.sinusoids(1500, 64);
            for (int i = 0; i < pos.length; i++) assertEquals(exact[i], pos[i], 0.004 + Math.abs(exact[i]) / 256);
            assertEquals(0f, pos[0]);
            assertEquals(1f, pos[32]);
        }
    }

    @Test
    void configAndGenerationConfig() throws IOException {
        assertEquals(64, cfg.audio().dModel());
        assertEquals(2, cfg.audio().encoderLayers());
        assertEquals(2, cfg.text().numKeyValueHeads());
        assertEquals(16, cfg.text().headDim());
        assertEquals(List.of("Qwen2AudioForConditionalGeneration"), cfg.architectures());
        assertTrue(cfg.text().vocabSize() > cfg.audioTokenIndex() + 3);
        assertEquals(0, cfg.text().vocabSize() % 128);
        JsonNode g = new ObjectMapper().readTree(tiny.resolve("generation_config.json").toFile());
        assertTrue(g.get("do_sample").asBoolean());
        assertEquals(20, g.get("top_k").asInt());
        assertEquals(0.5, g.get("top_p").asDouble());
        assertEquals(0.7, g.get("temperature").asDouble());
        assertEquals(1.1, g.get("repetition_penalty").asDouble());
        assertEquals(cfg.audioTokenIndex() - 1, g.get("eos_token_id").get(0).asInt()); // <|im_end|>
        assertEquals(cfg.audioTokenIndex() - 3, g.get("eos_token_id").get(1).asInt()); // <|endoftext|>
    }

    @Test
    void oddPresetSizes(@TempDir Path dir) throws IOException {
        Qwen2AudioConfig c = MakeTiny.write(dir, MakeTiny.Options.odd(1));
        assertEquals(48, c.audio().dModel());
        assertEquals(3, c.audio().encoderAttentionHeads());
        assertEquals(96, c.text().hiddenSize());
        assertEquals(6, c.text().numAttentionHeads());
        assertEquals(3, c.text().numHiddenLayers());
        try (Checkpoint cp = Checkpoint.open(dir)) {
            assertArrayEquals(new long[]{32, 96}, cp.shape("language_model.model.layers.2.self_attn.v_proj.weight"));
        }
    }

    @Test
    void tokenizerLoadsInHuggingFaceTokenizers() throws IOException {
        System.setProperty("ai.djl.offline", "true");
        if (System.getenv("DJL_CACHE_DIR") == null && System.getProperty("DJL_CACHE_DIR") == null) {
            // the native tokenizers library is extracted here instead of the home directory
            System.setProperty("DJL_CACHE_DIR", Path.of("target", "djl-cache").toAbsolutePath().toString());
        }
        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tiny.resolve("tokenizer.json")).optTruncation(false).optAddSpecialTokens(false).build()) {
            for (String s : List.of("The quick brown fox jumps over the lazy dog.", "请描述这段音乐的风格。",
                    "Mixed 中文 and English, numbers 2024 and symbols #@!", "Ｆｕｌｌｗｉｄｔｈ and café")) {
                Encoding e = t.encode(s);
                assertEquals(Normalizer.normalize(s, Normalizer.Form.NFC),
                        t.decode(e.getIds(), false), s);
                assertTrue(e.getIds().length < s.getBytes(StandardCharsets.UTF_8).length
                        || s.startsWith("Ｆ"), "merges shorten " + s + ": " + Arrays.toString(e.getIds()));
            }
            long[] ids = t.encode("<|audio_bos|><|AUDIO|><|audio_eos|>").getIds();
            int audio = cfg.audioTokenIndex();
            assertArrayEquals(new long[]{audio + 1, audio, audio + 2}, ids);
            long[] chat = t.encode("<|im_start|>user\nhi<|im_end|><|endoftext|>").getIds();
            assertEquals(audio - 2, chat[0]);
            assertEquals(audio - 1, chat[chat.length - 2]);
            assertEquals(audio - 3, chat[chat.length - 1]);
            assertEquals(cfg.text().eosTokenId(), (int) chat[chat.length - 2]);
        }
    }
}
