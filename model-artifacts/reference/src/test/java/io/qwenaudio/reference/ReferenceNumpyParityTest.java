package io.qwenaudio.reference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;
import io.qwenaudio.tensor.Npy;
import io.qwenaudio.testtools.ExternalTool;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java reference against independent float64 numpy forwards written from the transformers / PyTorch code
 * ({@code src/test/python/reference_numpy.py}), fed the same weights as .npy files. Bound: max abs diff 5e-6.
 * Needs python3 with numpy ({@link ExternalTool}).
 */
class ReferenceNumpyParityTest {

    /** Max abs diff: measured <= 9.5e-7 (decoder logits; values up to 3.6). */
    private static final double BOUND = 5e-6;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT = Path.of("src", "test", "python", "reference_numpy.py");

    @TempDir
    static Path dir;

    @BeforeAll
    static void numpyPresent() {
        ExternalTool.PYTHON_NUMPY.require();
        assertTrue(Files.isRegularFile(SCRIPT), "missing " + SCRIPT.toAbsolutePath());
    }

    @Test
    void encoderWithLoraMatchesNumpy() throws Exception {
        Qwen2AudioConfig cfg = TinyModels.odd();
        InMemoryTensorSource w = TinyModels.weights(cfg, 31);
        int d = cfg.audio().dModel(), f = cfg.audio().encoderFfnDim(), r = 2, m = 1777;
        double scale = 2.0;
        Map<String, LoraAdapter.Target> targets = new LinkedHashMap<>();
        InMemoryTensorSource loraTensors = new InMemoryTensorSource();
        long seed = 200;
        for (String module : List.of("layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj", "layers.1.self_attn.v_proj",
                "layers.1.self_attn.out_proj", "layers.0.fc1", "layers.1.fc2")) {
            String name = "audio_tower." + module;
            int in = module.endsWith("fc2") ? f : d, out = module.endsWith("fc1") ? f : d;
            float[] a = TinyModels.gaussian(r * in, 1 / Math.sqrt(in), seed++), b = TinyModels.gaussian(out * r, 0.05, seed++);
            targets.put(name, new LoraAdapter.Target(name, r, in, out, a, b, scale));
            loraTensors.put(name + ".lora_A", a, r, in).put(name + ".lora_B", b, out, r);
        }
        LoraAdapter lora = new LoraAdapter(Path.of("lora"), r, r * scale, false, false, List.of(), null, targets);
        float[] feats = TinyModels.features(cfg.audio().numMelBins(), m, 32);

        Path task = dir.resolve("encoder");
        writeAll(task.resolve("w"), w, "audio_tower.");
        writeAll(task.resolve("lora"), loraTensors, "");
        Npy.write(task.resolve("features.npy"), feats, cfg.audio().numMelBins(), 3000);
        ObjectNode t = task("encoder", "encoder");
        t.putObject("config").put("d_model", d).put("heads", cfg.audio().encoderAttentionHeads())
                .put("layers", cfg.audio().encoderLayers());
        t.putObject("inputs").put("features", "encoder/features.npy");
        t.put("mel_length", m);
        ObjectNode l = t.putObject("lora").put("dir", "encoder/lora").put("scale", scale);
        ArrayNode mods = l.putArray("modules");
        targets.keySet().forEach(mods::add);
        Map<String, float[]> out = run(t);

        float[] java = new ReferenceEncoder(cfg.audio(), w).withLora(lora).forward(feats, m);
        report("encoder+LoRA odd, M " + m + ", all 750 rows", java, out.get("last_hidden_state"));
    }

    @Test
    void decoderMatchesNumpyForHiddenStatesAndLogits() throws Exception {
        for (Qwen2AudioConfig cfg : List.of(TinyModels.odd(), TinyModels.even())) {
            TextConfig tc = cfg.text();
            String name = "decoder" + tc.hiddenSize();
            InMemoryTensorSource w = TinyModels.weights(cfg, 41);
            int s = 11, h = tc.hiddenSize();
            float[] x = TinyModels.gaussian(s * h, 0.7, 42);
            Path task = dir.resolve(name);
            writeAll(task.resolve("w"), w, "language_model.");
            Npy.write(task.resolve("x.npy"), x, s, h);
            ObjectNode t = task(name, "decoder");
            t.putObject("config").put("hidden", h).put("heads", tc.numAttentionHeads()).put("kv_heads", tc.numKeyValueHeads())
                    .put("head_dim", tc.headDim()).put("layers", tc.numHiddenLayers()).put("rms_norm_eps", tc.rmsNormEps())
                    .put("rope_theta", tc.ropeTheta());
            t.putObject("inputs").put("inputs_embeds", name + "/x.npy");
            Map<String, float[]> out = run(t);

            ReferenceDecoder.Output o = new ReferenceDecoder(tc, w).forward(x, s);
            String label = name + " (" + tc.numAttentionHeads() + " heads / " + tc.numKeyValueHeads() + " kv, theta "
                    + tc.ropeTheta() + ")";
            for (int i = 0; i <= tc.numHiddenLayers(); i++) report(label + " hidden_states[" + i + "]", o.hiddenStates()[i], out.get("hidden_" + i));
            report(label + " logits [S, V]", o.allLogits(), out.get("logits"));
        }
    }

    @Test
    void adapterMatchesNumpyAcrossVariants() throws Exception {
        int n = 23;
        Object[][] variants = {
                {48, 2, 4, 96, "gelu", true, "sinusoidal", true, "scalar"},
                {48, 1, 3, 64, "relu", false, "sinusoidal", true, "channel"},
                {32, 2, 2, 40, "gelu", false, "none", false, "scalar"},
        };
        int k = 0;
        for (Object[] v : variants) {
            DomainAdapterConfig c = ReferenceAdapterTest.config((int) v[0], (int) v[1], (int) v[2], (int) v[3], (String) v[4],
                    (boolean) v[5], (String) v[6], (boolean) v[7], (String) v[8]);
            String name = "adapter" + k++;
            InMemoryTensorSource w = ReferenceAdapterTest.weights(c, 50 + k);
            int d = c.inputDim();
            float[] x = TinyModels.gaussian(n * d, 1.0, 60 + k);
            Path task = dir.resolve(name);
            writeAll(task.resolve("w"), w, "");
            Npy.write(task.resolve("x.npy"), x, n, d);
            ObjectNode t = task(name, "adapter");
            t.putObject("config").put("input_dim", d).put("num_layers", c.numLayers()).put("num_heads", c.numHeads())
                    .put("layer_norm_eps", c.layerNormEps()).put("activation", c.activation()).put("norm_first", c.normFirst())
                    .put("positional_encoding", c.positionalEncoding()).put("use_gate", c.useGate());
            t.putObject("inputs").put("x", name + "/x.npy");
            Map<String, float[]> out = run(t);

            ReferenceAdapter.Result r = new ReferenceAdapter(c, w).forward(x, n);
            String label = name + " " + Arrays.toString(v);
            report(label + " out", r.out(), out.get("out"));
            report(label + " delta", r.delta(), out.get("delta"));
            report(label + " gate", r.gate(), out.get("gate"));
        }
    }

    @Test
    void projectorMatchesNumpy() throws Exception {
        Qwen2AudioConfig cfg = TinyModels.odd();
        InMemoryTensorSource w = TinyModels.weights(cfg, 71);
        int n = 9, d = cfg.audio().dModel();
        float[] x = TinyModels.gaussian(n * d, 1, 72);
        Path task = dir.resolve("projector");
        writeAll(task.resolve("w"), w, "multi_modal_projector.");
        Npy.write(task.resolve("x.npy"), x, n, d);
        ObjectNode t = task("projector", "projector");
        t.putObject("inputs").put("x", "projector/x.npy");
        report("projector", new ReferenceProjector(w).forward(x, n), run(t).get("y"));
    }

    private static ObjectNode task(String name, String kind) {
        ObjectNode t = JSON.createObjectNode();
        t.put("name", name).put("kind", kind).put("weights", name + "/w");
        return t;
    }

    private static void writeAll(Path to, TensorSource w, String prefix) throws IOException {
        Files.createDirectories(to);
        for (String n : w.names()) if (n.startsWith(prefix)) Npy.write(to.resolve(n + ".npy"), w.floats(n), w.shape(n));
    }

    /** Runs the numpy script on one task; returns its outputs by key. */
    private static Map<String, float[]> run(ObjectNode task) throws Exception {
        String name = task.get("name").asText();
        Path runDir = Files.createDirectories(dir.resolve("run-" + name));
        Path base = dir;
        ArrayNode tasks = JSON.createArrayNode().add(task);
        Files.writeString(base.resolve("tasks.json"), JSON.writeValueAsString(tasks));
        Process p = new ProcessBuilder("python3", SCRIPT.toAbsolutePath().toString(), base.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "numpy forward timed out");
        assertEquals(0, p.exitValue(), "numpy forward failed:\n" + log);
        Map<String, float[]> out = new LinkedHashMap<>();
        try (var files = Files.list(base)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String fn = f.getFileName().toString();
                if (fn.startsWith(name + ".") && fn.endsWith(".npy")) {
                    Npy.Array a = Npy.read(f);
                    float[] v = new float[(int) a.size()];
                    a.data().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
                    out.put(fn.substring(name.length() + 1, fn.length() - 4), v);
                    Files.move(f, runDir.resolve(fn));
                }
            }
        }
        return out;
    }

    private static void report(String what, float[] java, float[] numpy) {
        assertTrue(numpy != null, "numpy produced no output for " + what);
        assertEquals(numpy.length, java.length, what + ": element count");
        double diff = TinyModels.maxAbsDiff(java, numpy);
        System.out.printf("numpy parity %-70s max abs diff %.3e (max |value| %.3f)%n", what, diff, TinyModels.maxAbs(numpy));
        assertTrue(diff <= BOUND, what + ": max abs diff " + diff + " > " + BOUND);
    }
}
