package io.qwenaudio.converter;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.CheckpointException;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.SafetensorsWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole conversion on a make-tiny checkpoint: output layout, manifest, checksums, atomicity, bad input. */
class ConverterTest {

    @TempDir
    static Path tmp;
    static Path ck, lora, adapter;
    static Qwen2AudioConfig cfg;

    @BeforeAll
    static void tiny() throws IOException {
        ck = tmp.resolve("ck");
        lora = tmp.resolve("lora");
        adapter = tmp.resolve("adapter");
        cfg = MakeTiny.write(ck, MakeTiny.Options.tiny(7).withLora(lora).withAdapter(adapter));
    }

    static Converter.Options opts(Path out) {
        return new Converter.Options(ck, out, GraphBuilder.WeightType.FLOAT32, List.of(lora), Map.of("ldv", adapter));
    }

    @Test
    void convertWritesGraphsTokenizerAndAVerifiableManifest() throws Exception {
        Path out = tmp.resolve("artifacts");
        Manifest m = new Converter(null).convert(opts(out));
        for (String g : List.of(Manifest.AUDIO_ENCODER, Manifest.PROJECTOR, Manifest.EMBED_TOKENS, Manifest.DECODER)) {
            Manifest.GraphSpec s = m.graph(g);
            assertTrue(Files.isRegularFile(out.resolve(s.file())), s.file());
            assertTrue(m.files().containsKey(s.file()) && m.files().containsKey(s.data()), g);
        }
        assertEquals(List.of("input_features", "mel_lengths"),
                m.graph(Manifest.AUDIO_ENCODER).inputs().stream().map(Manifest.IoSpec::name).toList());
        assertEquals("int64", m.graph(Manifest.AUDIO_ENCODER).inputs().get(1).dtype());
        assertTrue(m.tokenizerFiles().contains("tokenizer.json"));
        assertEquals(cfg.audioTokenIndex(), m.specialTokens().audioTokenId());
        assertTrue(m.specialTokens().eosTokenIds().contains(m.specialTokens().imEndId()));
        assertEquals(cfg.audio().dModel(), m.audio().dModel());
        assertEquals("ldv", m.adapters().get("ldv").environment());
        assertEquals(1, m.lora().size());
        assertNotNull(m.generation());
        assertEquals("qwen2_audio", m.sourceConfig().get("model_type").asText());

        Manifest back = Manifest.read(out);
        back.verify(out); // every sha256 matches
        assertEquals(m.files(), back.files());
        try (Stream<Path> s = Files.list(out.toAbsolutePath().getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")), "temp dir left behind");
        }

        // an altered file is caught and named
        Path data = out.resolve(m.graph(Manifest.PROJECTOR).data());
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.seek(10);
            int b = f.read();
            f.seek(10);
            f.write(b ^ 1);
        }
        ArtifactsException e = assertThrows(ArtifactsException.class, () -> back.verify(out));
        assertTrue(e.getMessage().contains("projector.onnx.data"), e.getMessage());
    }

    @Test
    void conversionIsDeterministic() throws Exception {
        Manifest a = new Converter(null).convert(opts(tmp.resolve("d1")));
        Manifest b = new Converter(null).convert(opts(tmp.resolve("d2")));
        assertEquals(a.files(), b.files());
    }

    @Test
    void addAdapterUpdatesTheManifest() throws Exception {
        Path out = tmp.resolve("noadapter");
        new Converter(null).convert(new Converter.Options(ck, out, GraphBuilder.WeightType.FLOAT32, List.of(), Map.of()));
        Manifest m = new Converter(null).addAdapter(out, "office-mic", adapter);
        assertTrue(m.adapters().containsKey("office-mic"));
        Manifest.read(out).verify(out);
        assertTrue(Files.isRegularFile(out.resolve("adapters/office-mic/adapter.onnx")));
    }

    @Test
    void badInputFailsWithoutLeavingAnOutput() throws Exception {
        Path out = tmp.resolve("bad-out");
        // a LoRA aimed at o_proj, which the audio tower does not have
        Path badLora = tmp.resolve("badlora");
        Files.createDirectories(badLora);
        Files.copy(lora.resolve("adapter_config.json"), badLora.resolve("adapter_config.json"));
        int d = cfg.audio().dModel();
        String key = "base_model.model.audio_tower.layers.0.self_attn.o_proj.";
        SafetensorsWriter.writeFile(badLora.resolve("adapter_model.safetensors"),
                new InMemoryTensorSource()
                        .put(key + "lora_A.weight", new float[4 * d], 4, d)
                        .put(key + "lora_B.weight", new float[d * 4], d, 4),
                SafetensorsWriter.DType.F32);
        CheckpointException e = assertThrows(CheckpointException.class, () -> new Converter(null).convert(
                new Converter.Options(ck, out, GraphBuilder.WeightType.FLOAT32, List.of(badLora), Map.of())));
        assertTrue(e.getMessage().contains("o_proj") && e.getMessage().contains("out_proj"), e.getMessage());

        Path noConfig = tmp.resolve("noconfig");
        Files.createDirectories(noConfig);
        e = assertThrows(CheckpointException.class, () -> new Converter(null).convert(
                new Converter.Options(noConfig, out, GraphBuilder.WeightType.FLOAT32, List.of(), Map.of())));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());

        Path wrongAdapter = tmp.resolve("wrongadapter");
        MakeTiny.writeDomainAdapter(wrongAdapter, cfg.audio().dModel() * 2, 3);
        e = assertThrows(CheckpointException.class, () -> new Converter(null).convert(
                new Converter.Options(ck, out, GraphBuilder.WeightType.FLOAT32, List.of(), Map.of("x", wrongAdapter))));
        assertTrue(e.getMessage().contains("input_dim"), e.getMessage());

        e = assertThrows(CheckpointException.class, () -> new Converter(null).convert(
                new Converter.Options(ck, out, GraphBuilder.WeightType.FLOAT32, List.of(), Map.of("Bad Name", adapter))));
        assertTrue(e.getMessage().contains("adapter name"), e.getMessage());

        Path existing = tmp.resolve("existing");
        Files.createDirectories(existing);
        Files.writeString(existing.resolve("keep.txt"), "x");
        e = assertThrows(CheckpointException.class, () -> new Converter(null).convert(opts(existing)));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());

        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")), "temp dir left behind");
        }
    }
}
