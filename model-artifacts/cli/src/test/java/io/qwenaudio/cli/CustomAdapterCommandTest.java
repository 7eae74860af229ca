package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.reference.ReferenceAdapter;
import io.qwenaudio.tensor.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Domain adapters with their own sizes ({@code "preset": "custom"} or any other name, explicit num_layers,
 * num_heads, ff_dim, input_dim): converted by {@code convert --adapter} and {@code add-adapter}, loaded by
 * {@code encode --environment}, equal to the naive reference adapter; inconsistent configs exit 2 naming the field.
 */
class CustomAdapterCommandTest {

    /**
     * Relative error of the adapter's change (output minus input) against the reference: measured 5.2e-7 (3 layers,
     * channel gate) and 1.2e-6 (2 layers, relu, post-norm, no positional encoding).
     */
    static final double BOUND = 5e-6;

    @TempDir
    static Path tmp;
    static Path ck, art, wav;
    static Qwen2AudioConfig cfg;
    static float[] hidden; // [N, d] encoder output of the clip's valid tokens
    static int n;

    @BeforeAll
    static void setUp() throws Exception {
        ck = tmp.resolve("ck");
        art = tmp.resolve("art");
        wav = Files.write(tmp.resolve("a.wav"), SampleAudio.voicedGlide(16_000, 6.0, 1));
        assertEquals(0, run("make-tiny", ck.toString()).code());
        cfg = Qwen2AudioConfig.read(ck);
        int d = cfg.audio().dModel();
        // three layers of two heads and ff_dim 40: no preset has these sizes
        MakeTiny.writeDomainAdapter(tmp.resolve("custom"), new DomainAdapterConfig("custom", d, 3, 2, 40, 0.1, "gelu",
                true, 1e-5, "sinusoidal", true, "channel", 0.2, "piezo"), 7);
        CheckpointCommandsTest.Run r = run("convert", ck.toString(), "--out", art.toString(),
                "--adapter", "piezo=" + tmp.resolve("custom"));
        assertEquals(0, r.code(), r.err());
        // the adapter's input as serving computes it, so the comparison isolates the adapter graph
        Path h = tmp.resolve("hidden.npy");
        r = run("encode", art.toString(), wav.toString(), "--out", h.toString());
        assertEquals(0, r.code(), r.err());
        Npy.Array a = Npy.read(h);
        n = (int) a.shape()[0];
        assertEquals(150, n); // 6 s at 25 tokens/s
        hidden = a.toFloats();
    }

    @Test
    void convertedCustomAdapterEqualsTheReference() throws Exception {
        assertEncodedEqualsReference("piezo", tmp.resolve("custom"));
    }

    @Test
    void addAdapterTakesAnyPresetNameWithExplicitSizes() throws Exception {
        Path dir = tmp.resolve("studio");
        MakeTiny.writeDomainAdapter(dir, new DomainAdapterConfig("studio-2024", cfg.audio().dModel(), 2, 8, 24, 0.1,
                "relu", false, 1e-5, "none", true, "scalar", 0.1, "studio"), 8);
        CheckpointCommandsTest.Run r = run("add-adapter", art.toString(), "studio=" + dir);
        assertEquals(0, r.code(), r.err());
        assertEncodedEqualsReference("studio", dir);
    }

    @Test
    void inconsistentConfigsExitTwoNamingTheField() throws Exception {
        int d = cfg.audio().dModel();
        Path good = tmp.resolve("custom");
        List<List<String>> cases = List.of(
                List.of("{\"preset\":\"custom\",\"input_dim\":" + d + ",\"num_layers\":3,\"num_heads\":2}",
                        "ff_dim is missing and preset 'custom' is not one of [lightweight, standard, heavy]"),
                List.of("{\"preset\":\"custom\",\"input_dim\":" + d + ",\"num_layers\":2,\"num_heads\":2,\"ff_dim\":40,"
                        + "\"gate_type\":\"channel\"}", "num_layers is 2 but the file holds 3 layers"),
                List.of("{\"preset\":\"custom\",\"input_dim\":" + d + ",\"num_layers\":3,\"num_heads\":2,\"ff_dim\":80,"
                        + "\"gate_type\":\"channel\"}", "ff_dim is 80 but layers.0.linear1.weight has shape [40, " + d + "]"),
                List.of("{\"preset\":\"custom\",\"input_dim\":" + d + ",\"num_layers\":3,\"num_heads\":2,\"ff_dim\":40}",
                        "gate_type is 'scalar' but gate.weight has shape [" + d + ", " + d + "]"),
                List.of("{\"preset\":\"custom\",\"input_dim\":" + 2 * d + ",\"num_layers\":3,\"num_heads\":2,\"ff_dim\":40}",
                        "input_dim " + 2 * d + " but the audio encoder's d_model is " + d));
        int i = 0;
        for (List<String> c : cases) {
            Path dir = copyWeights(good, tmp.resolve("bad" + i++), c.get(0));
            CheckpointCommandsTest.Run r = run("add-adapter", art.toString(), "bad=" + dir);
            assertEquals(2, r.code(), c.get(0) + " -> " + r.err());
            assertTrue(r.err().contains(c.get(1)), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            r = run("convert", ck.toString(), "--out", tmp.resolve("art-bad").toString(), "--adapter", "bad=" + dir);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(c.get(1)), r.err());
        }
    }

    /** {@code encode --environment env} on the clip against the reference adapter of {@code adapterDir}. */
    private static void assertEncodedEqualsReference(String env, Path adapterDir) throws Exception {
        Path out = tmp.resolve(env + ".npy");
        CheckpointCommandsTest.Run r = run("encode", art.toString(), wav.toString(), "--out", out.toString(),
                "--environment", env);
        assertEquals(0, r.code(), r.err());
        float[] expected;
        try (DomainAdapterWeights w = DomainAdapterWeights.open(adapterDir)) {
            expected = new ReferenceAdapter(DomainAdapterConfig.read(adapterDir), w).forward(hidden, n).out();
        }
        Npy.Array a = Npy.read(out);
        assertArrayEquals(new long[] {n, cfg.audio().dModel()}, a.shape());
        // compare the adapter's change, so the residual x cannot hide an error in it
        float[] got = a.toFloats(), change = new float[expected.length], gotChange = new float[expected.length];
        for (int i = 0; i < expected.length; i++) {
            change[i] = expected[i] - hidden[i];
            gotChange[i] = got[i] - hidden[i];
        }
        double e = Parity.relError(change, gotChange);
        System.out.printf("custom adapter %s through encode: change rel err %.2e%n", env, e);
        assertTrue(e <= BOUND, "rel " + e);
    }

    private static Path copyWeights(Path from, Path to, String config) throws IOException {
        Files.createDirectories(to);
        Files.copy(from.resolve(DomainAdapterWeights.WEIGHTS_FILE), to.resolve(DomainAdapterWeights.WEIGHTS_FILE));
        Files.writeString(to.resolve(DomainAdapterConfig.CONFIG_FILE), config);
        return to;
    }
}
