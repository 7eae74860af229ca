package io.qwenaudio.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {

    static final String CONFIG = "{\"model_type\":\"qwen2_audio\",\"architectures\":[\"Qwen2AudioForConditionalGeneration\"]}";

    /** A few tensors under canonical names. */
    static InMemoryTensorSource canonical() {
        return new InMemoryTensorSource()
                .put("audio_tower.layers.0.self_attn.q_proj.weight", SafetensorsTest.randomFloats(12, 1), 3, 4)
                .put("multi_modal_projector.linear.bias", SafetensorsTest.randomFloats(5, 2), 5)
                .put("language_model.model.norm.weight", SafetensorsTest.randomFloats(6, 3), 6)
                .put("language_model.lm_head.weight", SafetensorsTest.randomFloats(20, 4), 10, 2);
    }

    /** The same tensors under the stored names of a layout. */
    static InMemoryTensorSource stored(KeyLayout layout) {
        InMemoryTensorSource c = canonical(), s = new InMemoryTensorSource();
        for (String n : c.names()) s.put(layout.stored(n), c.floats(n), c.shape(n));
        return s;
    }

    static Path write(Path dir, KeyLayout layout, long maxShard) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), CONFIG);
        SafetensorsWriter.writeCheckpoint(dir, stored(layout), SafetensorsWriter.DType.F32, maxShard);
        return dir;
    }

    @Test
    void newerLayoutNamesAreTheStoredOnes() {
        assertEquals(Set.of("model.audio_tower.layers.0.self_attn.q_proj.weight", "model.multi_modal_projector.linear.bias",
                "model.language_model.norm.weight", "lm_head.weight"), stored(KeyLayout.TRANSFORMERS).names());
        for (String n : stored(KeyLayout.TRANSFORMERS).names()) assertEquals(KeyLayout.TRANSFORMERS, KeyLayout.of(n));
    }

    @Test
    void bothLayoutsSingleAndShardedReadTheSameCanonicalTensors(@TempDir Path tmp) throws IOException {
        InMemoryTensorSource want = canonical();
        for (KeyLayout layout : KeyLayout.values()) {
            for (long maxShard : new long[]{1 << 20, 60}) {
                Path dir = write(tmp.resolve(layout + "-" + maxShard), layout, maxShard);
                boolean sharded = maxShard == 60;
                assertEquals(sharded, Files.exists(dir.resolve(Checkpoint.INDEX_FILE)));
                assertEquals(!sharded, Files.exists(dir.resolve(Checkpoint.SINGLE_FILE)));
                try (Checkpoint cp = Checkpoint.open(dir)) {
                    assertEquals(layout, cp.layout());
                    assertEquals(want.names(), cp.names());
                    assertTrue(sharded ? cp.files().size() >= 3 : cp.files().size() == 1, "files " + cp.files());
                    for (String n : want.names()) {
                        assertArrayEquals(want.floats(n), cp.floats(n, want.shape(n)), n);
                        assertEquals(layout.stored(n), cp.storedName(n));
                    }
                    assertEquals("qwen2_audio", cp.config().modelType());
                }
            }
        }
    }

    @Test
    void smallRegionsThroughCheckpoint(@TempDir Path tmp) throws IOException {
        Path dir = write(tmp, KeyLayout.HUB, 1 << 20);
        try (Checkpoint a = Checkpoint.open(dir); Checkpoint b = Checkpoint.open(dir, 16)) {
            assertTrue(b.files().get(0).regionCount() > 5);
            for (String n : a.names()) assertArrayEquals(a.floats(n), b.floats(n), n);
        }
    }

    @Test
    void missingPiecesAreNamed(@TempDir Path tmp) throws IOException {
        String m = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp.resolve("none"))).getMessage();
        assertTrue(m.startsWith("checkpoint directory not found"), m);

        Path noConfig = Files.createDirectories(tmp.resolve("noconfig"));
        m = assertThrows(CheckpointException.class, () -> Checkpoint.open(noConfig)).getMessage();
        assertTrue(m.startsWith("missing config.json"), m);

        Path noWeights = Files.createDirectories(tmp.resolve("noweights"));
        Files.writeString(noWeights.resolve("config.json"), CONFIG);
        m = assertThrows(CheckpointException.class, () -> Checkpoint.open(noWeights)).getMessage();
        assertTrue(m.contains("expected model.safetensors or model.safetensors.index.json"), m);

        Path sharded = write(tmp.resolve("sharded"), KeyLayout.HUB, 60);
        String second;
        try (var files = Files.list(sharded)) {
            second = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("model-00002-of-"))
                    .findFirst().orElseThrow();
        }
        Files.delete(sharded.resolve(second));
        m = assertThrows(CheckpointException.class, () -> Checkpoint.open(sharded)).getMessage();
        assertTrue(m.startsWith("missing shard " + second), m);

        Path single = write(tmp.resolve("single"), KeyLayout.HUB, 1 << 20);
        try (Checkpoint cp = Checkpoint.open(single)) {
            m = assertThrows(CheckpointException.class, () -> cp.floats("audio_tower.conv1.weight")).getMessage();
            assertTrue(m.startsWith("missing tensor 'audio_tower.conv1.weight'"), m);
            m = assertThrows(CheckpointException.class,
                    () -> cp.floats("language_model.lm_head.weight", 2, 10)).getMessage();
            assertTrue(m.contains("has shape [10, 2], expected [2, 10]"), m);
        }
    }

    @Test
    void indexNamingATensorTheShardLacksOrMixedLayouts(@TempDir Path tmp) throws IOException {
        Path dir = write(tmp.resolve("a"), KeyLayout.HUB, 60);
        Path idx = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(idx, Files.readString(idx).replace("\"language_model.lm_head.weight\"", "\"ghost.weight\""));
        String m = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(m.startsWith("tensor 'ghost.weight' is listed in model.safetensors.index.json"), m);

        Path mixed = Files.createDirectories(tmp.resolve("mixed"));
        Files.writeString(mixed.resolve("config.json"), CONFIG);
        SafetensorsWriter.writeFile(mixed.resolve(Checkpoint.SINGLE_FILE), new InMemoryTensorSource()
                .put("lm_head.weight", new float[2], 2).put("language_model.lm_head.weight", new float[2], 2),
                SafetensorsWriter.DType.F32);
        m = assertThrows(CheckpointException.class, () -> Checkpoint.open(mixed)).getMessage();
        assertTrue(m.contains("stored twice") && m.contains("mixes key layouts"), m);

        Path badIndex = Files.createDirectories(tmp.resolve("badindex"));
        Files.writeString(badIndex.resolve("config.json"), CONFIG);
        Files.writeString(badIndex.resolve(Checkpoint.INDEX_FILE), "{\"metadata\":{}}");
        m = assertThrows(CheckpointException.class, () -> Checkpoint.open(badIndex)).getMessage();
        assertTrue(m.contains("has no weight_map"), m);
    }
}
