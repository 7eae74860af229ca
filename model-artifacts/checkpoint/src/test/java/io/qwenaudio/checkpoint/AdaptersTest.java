package io.qwenaudio.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdaptersTest {

    @Test
    void loraFromMakeTiny(@TempDir Path tmp) throws IOException {
        Path ckpt = tmp.resolve("ckpt"), lora = tmp.resolve("lora");
        Qwen2AudioConfig cfg = MakeTiny.write(ckpt, MakeTiny.Options.tiny(3).withLora(lora));
        LoraAdapter a = LoraAdapter.read(lora);
        assertEquals(MakeTiny.LORA_R, a.r());
        assertEquals(List.of("q_proj", "k_proj", "v_proj"), a.targetModules());
        assertEquals(3 * cfg.audio().encoderLayers(), a.targets().size());
        LoraAdapter.Target t = a.targets().get("audio_tower.layers.1.self_attn.k_proj");
        assertEquals(4, t.rank());
        assertEquals(64, t.in());
        assertEquals(64, t.out());
        assertEquals(2.0, t.scale());
        assertEquals((long) 3 * 2 * (4 * 64 + 64 * 4), a.parameterCount());
        // delta = scale * B @ A, checked for one element
        float[] d = t.delta();
        double want = 0;
        for (int k = 0; k < 4; k++) want += t.b()[5 * 4 + k] * t.a()[k * 64 + 9];
        assertEquals(2.0 * want, d[5 * 64 + 9], 1e-6);
        assertTrue(Math.abs(want) > 0, "B is nonzero");
        try (Checkpoint cp = Checkpoint.open(ckpt)) {
            assertEquals(List.of(), a.unknownTargets(cp));
            InMemoryTensorSource partial = new InMemoryTensorSource();
            for (String n : cp.names()) {
                if (!n.equals("audio_tower.layers.0.self_attn.q_proj.weight")) partial.put(n, new float[(int) cp.numel(n)], cp.shape(n));
            }
            assertEquals(List.of("audio_tower.layers.0.self_attn.q_proj (no weight 'audio_tower.layers.0.self_attn.q_proj.weight' in the checkpoint)"),
                    a.unknownTargets(partial));
        }
    }

    static void writeLora(Path dir, String config, Map<String, long[]> tensors) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), config);
        InMemoryTensorSource s = new InMemoryTensorSource();
        tensors.forEach((n, shape) -> {
            int len = 1;
            for (long x : shape) len *= (int) x;
            float[] v = new float[len];
            Arrays.fill(v, 0.5f);
            s.put(n, v, shape);
        });
        SafetensorsWriter.writeFile(dir.resolve("adapter_model.safetensors"), s, SafetensorsWriter.DType.F16);
    }

    @Test
    void loraKeyVariantsRsloraAndErrors(@TempDir Path tmp) throws IOException {
        String cfg = "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":16,\"use_rslora\":true,\"target_modules\":[\"q_proj\"]}";
        writeLora(tmp.resolve("a"), cfg, Map.of(
                "base_model.model.model.audio_tower.layers.0.self_attn.q_proj.lora_A.weight", new long[]{4, 8},
                "base_model.model.model.audio_tower.layers.0.self_attn.q_proj.lora_B.weight", new long[]{6, 4},
                "audio_tower.layers.1.fc1.lora_A.default.weight", new long[]{4, 8},
                "audio_tower.layers.1.fc1.lora_B.default.weight", new long[]{6, 4}));
        LoraAdapter a = LoraAdapter.read(tmp.resolve("a"));
        assertEquals(List.of("audio_tower.layers.0.self_attn.q_proj", "audio_tower.layers.1.fc1"), List.copyOf(a.targets().keySet()));
        assertEquals(16 / 2.0, a.targets().get("audio_tower.layers.1.fc1").scale());
        assertArrayEquals(new float[]{0.5f, 0.5f}, Arrays.copyOf(a.targets().get("audio_tower.layers.1.fc1").a(), 2));

        writeLora(tmp.resolve("b"), cfg.replace("\"r\":4", "\"r\":8"), Map.of(
                "base_model.model.audio_tower.layers.0.self_attn.q_proj.lora_A.weight", new long[]{4, 8},
                "base_model.model.audio_tower.layers.0.self_attn.q_proj.lora_B.weight", new long[]{6, 4}));
        String m = assertThrows(CheckpointException.class, () -> LoraAdapter.read(tmp.resolve("b"))).getMessage();
        assertTrue(m.contains("has rank 4 but adapter_config.json says r=8"), m);

        writeLora(tmp.resolve("c"), cfg, Map.of(
                "base_model.model.audio_tower.layers.0.self_attn.q_proj.lora_A.weight", new long[]{4, 8}));
        m = assertThrows(CheckpointException.class, () -> LoraAdapter.read(tmp.resolve("c"))).getMessage();
        assertTrue(m.contains("has lora_A but no lora_B"), m);

        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.writeString(bin.resolve("adapter_config.json"), cfg);
        Files.write(bin.resolve("adapter_model.bin"), new byte[]{1});
        m = assertThrows(CheckpointException.class, () -> LoraAdapter.read(bin)).getMessage();
        assertTrue(m.contains("adapter_model.bin; only adapter_model.safetensors is supported"), m);

        m = assertThrows(CheckpointException.class, () -> LoraAdapter.read(tmp.resolve("none"))).getMessage();
        assertTrue(m.startsWith("missing adapter_config.json"), m);
    }

    @Test
    void domainAdapterFromMakeTiny(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("adapter");
        MakeTiny.write(tmp.resolve("ckpt"), MakeTiny.Options.tiny(3).withAdapter(dir));
        DomainAdapterConfig c = DomainAdapterConfig.read(dir);
        assertEquals("ldv", c.environment());
        assertEquals(64, c.inputDim());
        assertEquals(1, c.numLayers());
        assertEquals(4, c.numHeads());
        assertEquals(128, c.ffDim());
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir)) {
            w.validate(c);
            assertTrue(w.has("layers.0.self_attn.in_proj_weight"));
            assertArrayEquals(new float[]{0.1f}, w.floats("scale", 1));
            assertArrayEquals(new long[]{1, 64}, w.shape("gate.weight"));
            // a channel gate needs [d, d]: the same weights fail validation and name the tensor
            DomainAdapterConfig channel = new DomainAdapterConfig(c.preset(), 64, 1, 4, 128, 0.1, "gelu", true, 1e-5,
                    "sinusoidal", true, "channel", 0.1, "ldv");
            String m = assertThrows(CheckpointException.class, () -> w.validate(channel)).getMessage();
            assertTrue(m.contains("gate_type is 'channel' but gate.weight has shape [1, 64]; set gate_type to scalar"), m);
            DomainAdapterConfig twoLayers = new DomainAdapterConfig(c.preset(), 64, 2, 4, 128, 0.1, "gelu", true, 1e-5,
                    "sinusoidal", true, "scalar", 0.1, "ldv");
            m = assertThrows(CheckpointException.class, () -> w.validate(twoLayers)).getMessage();
            assertTrue(m.contains("num_layers is 2 but the file holds 1 layer (layers.0 to layers.0); set num_layers to 1"), m);
        }
    }

    @Test
    void domainAdapterConfigPresetsAndValidation(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("adapter_config.json"), "{\"preset\":\"heavy\",\"environment\":\"ldv\"}");
        DomainAdapterConfig c = DomainAdapterConfig.read(tmp);
        assertEquals(4, c.numLayers());
        assertEquals(16, c.numHeads());
        assertEquals(4096, c.ffDim());
        assertEquals(1280, c.inputDim());
        DomainAdapterConfig light = DomainAdapterConfig.preset("lightweight", 1280, "mic");
        assertEquals(List.of(1, 4, 1024), List.of(light.numLayers(), light.numHeads(), light.ffDim()));
        List<List<String>> bad = List.of(
                List.of("{\"num_heads\":7}", "num_heads 7 does not divide input_dim 1280"),
                List.of("{\"preset\":\"huge\"}", "num_layers, num_heads, ff_dim are missing and preset 'huge' is not "
                        + "one of [lightweight, standard, heavy]"),
                List.of("{\"preset\":\"custom\",\"num_layers\":2,\"ff_dim\":64}", "num_heads is missing and preset 'custom'"),
                List.of("{\"preset\":\"\"}", "preset must be a non-empty name"),
                List.of("{\"preset\":3}", "preset must be a non-empty name"),
                List.of("{\"preset\":\"custom\",\"num_layers\":1,\"num_heads\":3,\"ff_dim\":64,\"input_dim\":64}",
                        "num_heads 3 does not divide input_dim 64"),
                List.of("{\"num_layers\":1e12}", "num_layers must be an integer"),
                List.of("{\"activation\":\"swish\"}", "activation is 'swish'"),
                List.of("{\"gate_type\":\"vector\"}", "gate_type is 'vector'"),
                List.of("{\"positional_encoding\":\"rope\"}", "positional_encoding is 'rope'"),
                List.of("{\"dropout\":1.5}", "dropout must be in [0, 1)"),
                List.of("{\"ff_dim\":\"big\"}", "ff_dim must be an integer"));
        for (List<String> e : bad) {
            Files.writeString(tmp.resolve("adapter_config.json"), e.get(0));
            String m = assertThrows(CheckpointException.class, () -> DomainAdapterConfig.read(tmp)).getMessage();
            assertTrue(m.contains(e.get(1)), e.get(0) + " -> " + m);
        }
        Files.delete(tmp.resolve("adapter_config.json"));
        Files.write(tmp.resolve("adapter.pt"), new byte[]{1});
        String m = assertThrows(CheckpointException.class, () -> DomainAdapterWeights.open(tmp)).getMessage();
        assertTrue(m.contains("holds adapter.pt; only adapter.safetensors is supported"), m);
    }

    @Test
    void customPresetTakesItsSizesAndAKnownPresetFillsOnlyTheMissingOnes(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("adapter_config.json"), "{\"preset\":\"custom\",\"input_dim\":96,\"num_layers\":3,"
                + "\"num_heads\":6,\"ff_dim\":40,\"environment\":\"piezo\"}");
        DomainAdapterConfig c = DomainAdapterConfig.read(tmp);
        assertEquals("custom", c.preset());
        assertEquals(List.of(96, 3, 6, 40), List.of(c.inputDim(), c.numLayers(), c.numHeads(), c.ffDim()));
        // any name is accepted when every size is given
        Files.writeString(tmp.resolve("adapter_config.json"), "{\"preset\":\"ldv-v2\",\"input_dim\":96,\"num_layers\":0,"
                + "\"num_heads\":4,\"ff_dim\":8}");
        assertEquals("ldv-v2", DomainAdapterConfig.read(tmp).preset());
        // a known preset fills only what is missing: heavy's heads and ff_dim, the file's num_layers
        Files.writeString(tmp.resolve("adapter_config.json"), "{\"preset\":\"heavy\",\"num_layers\":1}");
        c = DomainAdapterConfig.read(tmp);
        assertEquals(List.of(1280, 1, 16, 4096), List.of(c.inputDim(), c.numLayers(), c.numHeads(), c.ffDim()));
    }

    @Test
    void customSizesThatDisagreeWithTheTensorsNameTheField(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("custom");
        DomainAdapterConfig c = new DomainAdapterConfig("custom", 48, 3, 6, 40, 0.1, "relu", false, 1e-5, "none", true,
                "channel", 0.2, "piezo");
        MakeTiny.writeDomainAdapter(dir, c, 5);
        DomainAdapterConfig read = DomainAdapterConfig.read(dir);
        assertEquals(c, read);
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir)) {
            w.validate(read);
            Map<DomainAdapterConfig, String> bad = Map.of(
                    withSizes(c, 64, 3, 8, 40), "input_dim is 64 but output_norm.weight has shape [48]; set input_dim to 48",
                    withSizes(c, 48, 2, 6, 40), "num_layers is 2 but the file holds 3 layers (layers.0 to layers.2); "
                            + "set num_layers to 3",
                    withSizes(c, 48, 3, 6, 41), "ff_dim is 41 but layers.0.linear1.weight has shape [40, 48]; set ff_dim to 40");
            for (Map.Entry<DomainAdapterConfig, String> e : bad.entrySet()) {
                String m = assertThrows(CheckpointException.class, () -> w.validate(e.getKey())).getMessage();
                assertTrue(m.contains(e.getValue()), m);
            }
            DomainAdapterConfig noGate = new DomainAdapterConfig("custom", 48, 3, 6, 40, 0.1, "relu", false, 1e-5, "none",
                    false, "channel", 0.2, "piezo");
            String m = assertThrows(CheckpointException.class, () -> w.validate(noGate)).getMessage();
            assertTrue(m.contains("use_gate is false but gate.weight is stored; set use_gate to true"), m);
        }
    }

    private static DomainAdapterConfig withSizes(DomainAdapterConfig c, int d, int layers, int heads, int ff) {
        return new DomainAdapterConfig(c.preset(), d, layers, heads, ff, c.dropout(), c.activation(), c.normFirst(),
                c.layerNormEps(), c.positionalEncoding(), c.useGate(), c.gateType(), c.scaleInit(), c.environment());
    }
}
