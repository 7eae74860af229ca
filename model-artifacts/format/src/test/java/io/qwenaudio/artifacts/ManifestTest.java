package io.qwenaudio.artifacts;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestTest {

    static Manifest sample(Path dir) throws Exception {
        Files.writeString(dir.resolve("a.onnx"), "graph");
        Files.writeString(dir.resolve("a.onnx.data"), "weights");
        Manifest.GraphSpec g = new Manifest.GraphSpec("a.onnx", "a.onnx.data",
                List.of(new Manifest.IoSpec("input_features", "float32", List.of("B", 128L, 3000L))),
                List.of(new Manifest.IoSpec("last_hidden_state", "float32", List.of("B", 750L, 64L))));
        return new Manifest(Manifest.FORMAT_VERSION, "test", "qwen2_audio", "fp32",
                new Manifest.AudioDims(64, 128, 2, 750), new Manifest.TextDims(64, 768, 2, 4, 2, 16, 2048),
                new Manifest.SpecialTokens(559, 560, 561, 557, 558, 556, List.of(558, 556)), null,
                Map.of(Manifest.AUDIO_ENCODER, g), Map.of(), List.of(), List.of("tokenizer.json"), null,
                Manifest.hashFiles(dir, List.of("a.onnx", "a.onnx.data")));
    }

    @Test
    void roundTripsAsSnakeCaseJsonAndVerifies(@TempDir Path dir) throws Exception {
        Manifest m = sample(dir);
        m.write(dir);
        String json = Files.readString(dir.resolve(Manifest.FILE));
        assertTrue(json.contains("\"special_tokens\"") && json.contains("\"audio_token_id\" : 559"), json);
        Manifest back = Manifest.read(dir);
        assertEquals(m.files(), back.files());
        assertEquals(List.of("B", 128, 3000), back.graph(Manifest.AUDIO_ENCODER).inputs().get(0).shape());
        back.verify(dir);
    }

    @Test
    void alteredMissingOrAbsentFilesAreNamed(@TempDir Path dir) throws Exception {
        Manifest m = sample(dir);
        m.write(dir);
        Files.writeString(dir.resolve("a.onnx.data"), "weightz");
        ArtifactsException e = assertThrows(ArtifactsException.class, () -> Manifest.read(dir).verify(dir));
        assertTrue(e.getMessage().contains("a.onnx.data") && e.getMessage().contains("sha256"), e.getMessage());
        Files.delete(dir.resolve("a.onnx"));
        e = assertThrows(ArtifactsException.class, () -> Manifest.read(dir).verify(dir));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        e = assertThrows(ArtifactsException.class, () -> Manifest.read(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("qwen-audio convert"), e.getMessage());
        e = assertThrows(ArtifactsException.class, () -> m.graph(Manifest.DECODER));
        assertTrue(e.getMessage().contains("decoder"), e.getMessage());
    }
}
