package io.qwenaudio.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The weights of a domain adapter ({@code adapter.safetensors}) as a {@link TensorSource}, with a leading
 * {@code adapter.} or {@code domain_adapter.} stripped from every name, so names read like
 * {@code layers.0.self_attn.in_proj_weight} (PyTorch {@code nn.TransformerEncoderLayer} names).
 */
public final class DomainAdapterWeights implements TensorSource, AutoCloseable {

    public static final String WEIGHTS_FILE = "adapter.safetensors";

    private final SafetensorsFile file;
    private final Map<String, String> names; // short name -> stored name

    private DomainAdapterWeights(SafetensorsFile file, Map<String, String> names) {
        this.file = file;
        this.names = names;
    }

    /** Opens {@code adapter.safetensors} in an adapter directory. */
    public static DomainAdapterWeights open(Path dir) {
        Path f = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(f)) {
            for (String other : List.of("adapter.pt", "adapter.pth", "adapter.bin", "adapter_model.bin")) {
                if (Files.isRegularFile(dir.resolve(other))) {
                    throw new CheckpointException("domain adapter " + dir + " holds " + other + "; only "
                            + WEIGHTS_FILE + " is supported (save the state dict with safetensors.torch.save_file)");
                }
            }
            throw new CheckpointException("missing " + WEIGHTS_FILE + " in domain adapter directory " + dir);
        }
        SafetensorsFile sf = SafetensorsFile.open(f);
        Map<String, String> names = new TreeMap<>();
        for (String stored : sf.names()) {
            String s = stored;
            if (s.startsWith("domain_adapter.")) s = s.substring("domain_adapter.".length());
            else if (s.startsWith("adapter.")) s = s.substring("adapter.".length());
            if (names.put(s, stored) != null) {
                sf.close();
                throw new CheckpointException(f + ": tensor '" + s + "' appears twice (with and without a prefix)");
            }
        }
        return new DomainAdapterWeights(sf, Collections.unmodifiableMap(names));
    }

    /** Every tensor the config implies, with its shape, in a stable order. */
    public static Map<String, long[]> expectedShapes(DomainAdapterConfig c) {
        long d = c.inputDim(), f = c.ffDim();
        Map<String, long[]> m = new LinkedHashMap<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "layers." + i + ".";
            m.put(p + "self_attn.in_proj_weight", new long[]{3 * d, d});
            m.put(p + "self_attn.in_proj_bias", new long[]{3 * d});
            m.put(p + "self_attn.out_proj.weight", new long[]{d, d});
            m.put(p + "self_attn.out_proj.bias", new long[]{d});
            m.put(p + "linear1.weight", new long[]{f, d});
            m.put(p + "linear1.bias", new long[]{f});
            m.put(p + "linear2.weight", new long[]{d, f});
            m.put(p + "linear2.bias", new long[]{d});
            m.put(p + "norm1.weight", new long[]{d});
            m.put(p + "norm1.bias", new long[]{d});
            m.put(p + "norm2.weight", new long[]{d});
            m.put(p + "norm2.bias", new long[]{d});
        }
        m.put("output_proj.weight", new long[]{d, d});
        m.put("output_proj.bias", new long[]{d});
        m.put("output_norm.weight", new long[]{d});
        m.put("output_norm.bias", new long[]{d});
        if (c.useGate()) {
            boolean channel = c.gateType().equals("channel");
            m.put("gate.weight", new long[]{channel ? d : 1, d});
            m.put("gate.bias", new long[]{channel ? d : 1});
        }
        m.put("scale", new long[]{1});
        return m;
    }

    /**
     * Checks that the config's sizes agree with the stored tensors, naming the field that disagrees
     * ({@code input_dim}, {@code num_layers}, {@code ff_dim}, {@code use_gate}, {@code gate_type}); then that every
     * tensor the config implies is present with the right shape and that nothing else is stored (a stored
     * positional-encoding buffer, any name containing {@code pos}, is allowed). The error lists every problem.
     */
    public void validate(DomainAdapterConfig c) {
        List<String> problems = fieldMismatches(c);
        if (problems.isEmpty()) problems = tensorMismatches(c);
        if (!problems.isEmpty()) {
            throw new CheckpointException(file.path() + " does not match adapter_config.json (preset " + c.preset()
                    + ", d=" + c.inputDim() + ", L=" + c.numLayers() + ", F=" + c.ffDim() + ", gate " + c.gateType()
                    + "): " + String.join("; ", problems));
        }
    }

    /** The size fields of the config that the tensors contradict, each with the value the tensors imply. */
    private List<String> fieldMismatches(DomainAdapterConfig c) {
        List<String> problems = new ArrayList<>();
        if (names.containsKey("output_norm.weight")) {
            long d = shape("output_norm.weight")[0];
            if (d != c.inputDim()) {
                problems.add(mismatch("input_dim", c.inputDim(), "output_norm.weight", d));
            }
        }
        int layers = storedLayers();
        if (layers != c.numLayers()) {
            String held = layers == 0 ? "no layers.* tensors"
                    : layers + (layers == 1 ? " layer" : " layers") + " (layers.0 to layers." + (layers - 1) + ")";
            problems.add("num_layers is " + c.numLayers() + " but the file holds " + held + "; set num_layers to " + layers);
        }
        if (c.numLayers() > 0 && names.containsKey("layers.0.linear1.weight")) {
            long f = shape("layers.0.linear1.weight")[0];
            if (f != c.ffDim()) problems.add(mismatch("ff_dim", c.ffDim(), "layers.0.linear1.weight", f));
        }
        boolean gate = names.containsKey("gate.weight");
        if (gate != c.useGate()) {
            problems.add("use_gate is " + c.useGate() + " but gate.weight is " + (gate ? "stored" : "absent")
                    + "; set use_gate to " + gate);
        } else if (gate) {
            boolean channel = shape("gate.weight")[0] != 1;
            if (channel != c.gateType().equals("channel")) {
                problems.add("gate_type is '" + c.gateType() + "' but gate.weight has shape "
                        + Arrays.toString(shape("gate.weight")) + "; set gate_type to " + (channel ? "channel" : "scalar"));
            }
        }
        return problems;
    }

    private String mismatch(String field, int configured, String tensor, long stored) {
        return field + " is " + configured + " but " + tensor + " has shape " + Arrays.toString(shape(tensor))
                + "; set " + field + " to " + stored;
    }

    /** One more than the highest {@code layers.<i>.} index stored (0 when there is none). */
    private int storedLayers() {
        int max = -1;
        for (String n : names.keySet()) {
            if (!n.startsWith("layers.")) continue;
            int dot = n.indexOf('.', "layers.".length());
            if (dot < 0) continue;
            try {
                max = Math.max(max, Integer.parseInt(n.substring("layers.".length(), dot)));
            } catch (NumberFormatException e) {
                // not a layer index: reported as an unexpected tensor
            }
        }
        return max + 1;
    }

    /** Every expected tensor missing or of another shape, and every stored tensor not expected. */
    private List<String> tensorMismatches(DomainAdapterConfig c) {
        List<String> problems = new ArrayList<>();
        Map<String, long[]> expected = expectedShapes(c);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!names.containsKey(e.getKey())) {
                problems.add("missing '" + e.getKey() + "' " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(shape(e.getKey()), e.getValue())) {
                problems.add("'" + e.getKey() + "' has shape " + Arrays.toString(shape(e.getKey())) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        for (String n : names.keySet()) {
            if (!expected.containsKey(n) && !n.contains("pos")) problems.add("unexpected '" + n + "'");
        }
        return problems;
    }

    @Override
    public Set<String> names() {
        return names.keySet();
    }

    @Override
    public long[] shape(String name) {
        return file.shape(stored(name));
    }

    @Override
    public String dtype(String name) {
        return file.dtype(stored(name));
    }

    @Override
    public float[] floats(String name) {
        return file.floats(stored(name));
    }

    private String stored(String name) {
        String s = names.get(name);
        if (s == null) throw new CheckpointException("missing tensor '" + name + "' in " + file.path());
        return s;
    }

    @Override
    public void close() {
        file.close();
    }
}
