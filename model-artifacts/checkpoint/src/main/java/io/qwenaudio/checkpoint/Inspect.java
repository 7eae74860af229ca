package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The structure report users run before fine-tuning, computed from {@code config.json} and the safetensors
 * headers only (no weight data is read): 1 model class, 2 top-level modules, 3 audio module, 4 language model,
 * 5 config values, 6 module tree with parameter counts, 7 LoRA-able Linears, 8 encoding strategy.
 * {@link #toJson()} and {@link #toText()} render the same content.
 */
public final class Inspect {

    /** Audio module names looked for, in order. */
    public static final List<String> AUDIO_MODULES = List.of("audio_tower", "audio_encoder", "audio_model", "encoder");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Qwen2AudioConfig config;
    private final Map<String, long[]> shapes;   // canonical name -> shape
    private final Map<String, String> dtypes;
    private final String source;
    private final int depth;
    private final Node root = new Node("", "");

    /** One module of the tree: its parameter tensors and child modules. */
    private static final class Node {
        final String name, path;
        final Map<String, Node> children = new LinkedHashMap<>();
        final Map<String, long[]> params = new LinkedHashMap<>();
        long count;

        Node(String name, String path) {
            this.name = name;
            this.path = path;
        }

        /** Shapes of every tensor below, by relative name: equal for identical repeated layers. */
        Map<String, List<Long>> signature(String prefix, Map<String, List<Long>> out) {
            params.forEach((k, v) -> out.put(prefix + k, Arrays.stream(v).boxed().toList()));
            children.forEach((k, c) -> c.signature(prefix + k + ".", out));
            return out;
        }

        boolean allNumericChildren() {
            return !children.isEmpty() && params.isEmpty() && children.keySet().stream().allMatch(k -> k.matches("\\d+"));
        }
    }

    private Inspect(Qwen2AudioConfig config, Map<String, long[]> shapes, Map<String, String> dtypes, String source,
                    int depth) {
        this.config = config;
        this.shapes = shapes;
        this.dtypes = dtypes;
        this.source = source;
        this.depth = depth;
        List<String> names = new ArrayList<>(shapes.keySet());
        names.sort(NATURAL);
        for (String n : names) {
            String[] parts = n.split("\\.");
            Node cur = root;
            cur.count += numel(shapes.get(n));
            StringBuilder path = new StringBuilder();
            for (int i = 0; i < parts.length - 1; i++) {
                if (path.length() > 0) path.append('.');
                path.append(parts[i]);
                String p = path.toString();
                cur = cur.children.computeIfAbsent(parts[i], k -> new Node(k, p));
                cur.count += numel(shapes.get(n));
            }
            cur.params.put(parts[parts.length - 1], shapes.get(n));
        }
    }

    /** Inspects an open checkpoint; {@code depth} limits the module tree (step 6). */
    public static Inspect of(Checkpoint cp, int depth) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, String> dtypes = new LinkedHashMap<>();
        for (String n : cp.names()) {
            shapes.put(n, cp.shape(n));
            dtypes.put(n, cp.dtype(n));
        }
        return new Inspect(cp.config(), shapes, dtypes, cp.directory().toString() + " (" + cp.files().size()
                + " safetensors file(s), " + cp.layout() + " key layout)", depth);
    }

    /** Inspects a config and tensor shapes (any {@link TensorSource}; only shapes and dtypes are read). */
    public static Inspect of(Qwen2AudioConfig config, TensorSource source, int depth) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, String> dtypes = new LinkedHashMap<>();
        for (String n : source.names()) {
            shapes.put(n, source.shape(n));
            dtypes.put(n, source.dtype(n));
        }
        return new Inspect(config, shapes, dtypes, "tensor source", depth);
    }

    // ---- numbers ----

    public long totalParameters() {
        return root.count;
    }

    /** Parameters under a module path (e.g. {@code audio_tower}, {@code language_model.model.layers.3}); 0 if absent. */
    public long parameters(String modulePath) {
        Node n = find(modulePath);
        return n == null ? 0 : n.count;
    }

    /** The audio module name present (audio_tower, else audio_encoder / audio_model / encoder), or null. */
    public String audioModule() {
        for (String m : AUDIO_MODULES) if (root.children.containsKey(m)) return m;
        return null;
    }

    /** Number of {@code layers.{i}} under a module path. */
    public int layerCount(String modulePath) {
        Node n = find(modulePath == null ? null : modulePath + ".layers");
        return n == null ? 0 : n.children.size();
    }

    /** LoRA-able Linears (2-D {@code .weight} of non-embedding modules) grouped by top module then leaf name. */
    public Map<String, Map<String, List<String>>> loraTargets() {
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(shapes.keySet());
        names.sort(NATURAL);
        for (String n : names) {
            if (!n.endsWith(".weight") || shapes.get(n).length != 2) continue;
            String module = n.substring(0, n.length() - ".weight".length());
            String leaf = module.substring(module.lastIndexOf('.') + 1);
            if (leaf.contains("embed") || leaf.contains("norm")) continue;
            String top = module.substring(0, module.indexOf('.') < 0 ? module.length() : module.indexOf('.'));
            out.computeIfAbsent(top, k -> new TreeMap<>(Comparator.comparingInt(Inspect::leafOrder).thenComparing(k2 -> k2)))
                    .computeIfAbsent(leaf, k -> new ArrayList<>()).add(module);
        }
        return out;
    }

    private static int leafOrder(String leaf) {
        int i = List.of("q_proj", "k_proj", "v_proj", "out_proj", "o_proj", "fc1", "fc2", "gate_proj", "up_proj",
                "down_proj", "linear", "lm_head").indexOf(leaf);
        return i < 0 ? 100 : i;
    }

    private Node find(String path) {
        if (path == null) return null;
        Node cur = root;
        for (String p : path.split("\\.")) {
            cur = cur.children.get(p);
            if (cur == null) return null;
        }
        return cur;
    }

    // ---- module types (transformers class names for the known Qwen2-Audio paths) ----

    static String typeOf(String path, Node n) {
        String leaf = path.substring(path.lastIndexOf('.') + 1);
        boolean lm = path.startsWith("language_model");
        boolean audio = AUDIO_MODULES.stream().anyMatch(m -> path.equals(m) || path.startsWith(m + "."));
        if (path.equals("language_model")) return "Qwen2ForCausalLM";
        if (path.equals("language_model.model")) return "Qwen2Model";
        if (path.equals("audio_tower")) return "Qwen2AudioEncoder";
        if (path.equals("multi_modal_projector")) return "Qwen2AudioMultiModalProjector";
        if (n.allNumericChildren()) return "ModuleList";
        if (leaf.matches("\\d+") && path.endsWith("layers." + leaf)) return lm ? "Qwen2DecoderLayer" : audio ? "Qwen2AudioEncoderLayer" : "Layer";
        if (leaf.equals("self_attn")) return lm ? "Qwen2Attention" : audio ? "Qwen2AudioAttention" : "Attention";
        if (leaf.equals("mlp")) return "Qwen2MLP";
        long[] w = n.params.get("weight");
        if (leaf.contains("norm")) return lm ? "Qwen2RMSNorm" : "LayerNorm";
        if (leaf.startsWith("embed")) return "Embedding";
        if (w != null && w.length == 3) return "Conv1d";
        if (w != null && w.length == 2) return "Linear";
        return n.children.isEmpty() ? "Parameter" : "Module";
    }

    // ---- rendering ----

    /** The report as one JSON document. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("source", source);
        List<String> arch = config.architectures();
        o.put("model_class", arch.isEmpty() ? null : arch.get(0));
        o.put("total_parameters", totalParameters());
        ObjectNode dt = o.putObject("dtypes");
        new TreeMap<>(countDtypes()).forEach(dt::put);
        ArrayNode top = o.putArray("top_level_modules");
        root.children.values().forEach(c -> top.addObject().put("name", c.path).put("type", typeOf(c.path, c))
                .put("parameters", c.count));
        String audio = audioModule();
        ObjectNode am = o.putObject("audio_module");
        am.put("name", audio);
        if (audio != null) {
            am.put("type", typeOf(audio, find(audio)));
            am.put("parameters", parameters(audio));
            am.put("layers", layerCount(audio));
            Node first = find(audio + ".layers.0");
            ArrayNode kids = am.putArray("first_layer_children");
            if (first != null) first.children.values().forEach(c -> kids.addObject().put("name", c.name)
                    .put("type", typeOf(c.path, c)).put("parameters", c.count));
        }
        ObjectNode lm = o.putObject("language_model");
        String lmBase = find("language_model.model") != null ? "language_model.model" : null;
        lm.put("name", lmBase == null ? null : "language_model");
        lm.put("parameters", parameters("language_model"));
        lm.put("hidden_size", config.text().hiddenSize());
        lm.put("layers", layerCount(lmBase));
        lm.put("layers_in_config", config.text().numHiddenLayers());
        ObjectNode cfg = o.putObject("config");
        cfg.set("audio_config", JSON.valueToTree(config.audio()));
        cfg.set("text_config", JSON.valueToTree(config.text()));
        cfg.put("audio_token_index", config.audioTokenIndex());
        o.set("module_tree", treeJson(root, 0));
        ObjectNode lora = o.putObject("lora_targets");
        loraTargets().forEach((topName, leaves) -> {
            ArrayNode arr = lora.putArray(topName);
            leaves.forEach((leaf, paths) -> {
                ObjectNode e = arr.addObject().put("leaf", leaf).put("count", paths.size());
                ArrayNode shape = e.putArray("shape");
                for (long d : shapes.get(paths.get(0) + ".weight")) shape.add(d);
                ArrayNode ex = e.putArray("examples");
                paths.stream().limit(2).forEach(ex::add);
            });
        });
        ArrayNode notes = o.putArray("lora_notes");
        loraNotes().forEach(notes::add);
        ObjectNode enc = o.putObject("encoding_strategy");
        if (audio != null) {
            enc.put("strategy", "audio_tower").put("module", audio).put("output", "last_hidden_state")
                    .put("width", config.audio().dModel())
                    .put("tokens_per_30s_window", (config.audio().maxSourcePositions() - 2) / 2 + 1);
        } else {
            enc.put("strategy", "full_forward").put("output", "hidden_states").put("width", config.text().hiddenSize());
        }
        return o;
    }

    public String toJsonString() {
        try {
            return JSON.writeValueAsString(toJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> loraNotes() {
        List<String> notes = new ArrayList<>();
        String audio = audioModule();
        Map<String, Map<String, List<String>>> t = loraTargets();
        if (audio != null && t.containsKey(audio)) {
            boolean hasO = t.get(audio).containsKey("o_proj");
            boolean hasOut = t.get(audio).containsKey("out_proj");
            if (hasOut && !hasO) {
                notes.add("the audio tower's attention output projection is out_proj; it has NO o_proj. "
                        + "target_modules containing o_proj only hits the language model.");
            }
            notes.add("plain leaf names (q_proj, k_proj, v_proj) in target_modules match the language model too; "
                    + "restrict to the audio tower with a regex such as '.*" + audio + ".*\\.(q_proj|k_proj|v_proj)'.");
        }
        return notes;
    }

    private ObjectNode treeJson(Node n, int level) {
        ObjectNode o = JSON.createObjectNode();
        o.put("name", n == root ? "(model)" : n.name);
        if (n != root) o.put("type", typeOf(n.path, n));
        o.put("parameters", n.count);
        if (level >= depth) return o;
        if (n.allNumericChildren() && repeated(n)) {
            Node first = n.children.values().iterator().next();
            o.put("repeat", n.children.size());
            o.put("parameters_each", first.count);
            ObjectNode each = treeJson(first, level + 1);
            each.put("name", "{0.." + (n.children.size() - 1) + "}");
            o.putArray("children").add(each);
            return o;
        }
        if (!n.children.isEmpty()) {
            ArrayNode arr = o.putArray("children");
            n.children.values().forEach(c -> arr.add(treeJson(c, level + 1)));
        }
        return o;
    }

    private static boolean repeated(Node n) {
        Map<String, List<Long>> sig = null;
        for (Node c : n.children.values()) {
            Map<String, List<Long>> s = c.signature("", new TreeMap<>());
            if (sig == null) sig = s;
            else if (!sig.equals(s)) return false;
        }
        return true;
    }

    private Map<String, Long> countDtypes() {
        Map<String, Long> m = new LinkedHashMap<>();
        dtypes.values().forEach(d -> m.merge(d, 1L, Long::sum));
        return m;
    }

    /** The 8-step report as text. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        ObjectNode j = toJson();
        sb.append("Checkpoint: ").append(source).append('\n');
        sb.append("Parameters: ").append(fmt(totalParameters())).append(" (").append(totalParameters()).append("), dtypes ")
                .append(new TreeMap<>(countDtypes())).append("\n\n");
        sb.append("[1] Model class: ").append(j.path("model_class").asText("(no architectures in config.json)")).append('\n');
        sb.append("\n[2] Top-level modules:\n");
        for (Node c : root.children.values()) {
            sb.append(String.format("    %-24s %-32s %s%n", c.path, typeOf(c.path, c), fmt(c.count)));
        }
        String audio = audioModule();
        sb.append("\n[3] Audio module: ");
        if (audio == null) {
            sb.append("none (looked for ").append(AUDIO_MODULES).append(")\n");
        } else {
            sb.append(audio).append(" (").append(typeOf(audio, find(audio))).append("), ").append(layerCount(audio))
                    .append(" layers, ").append(fmt(parameters(audio))).append(" parameters\n");
            Node first = find(audio + ".layers.0");
            if (first != null) {
                sb.append("    layers.0 children:\n");
                for (Node c : first.children.values()) {
                    sb.append(String.format("      %-24s %-24s %s%n", c.name, typeOf(c.path, c), fmt(c.count)));
                }
            }
        }
        sb.append("\n[4] Language model: ");
        String lmBase = find("language_model.model") != null ? "language_model.model" : null;
        if (lmBase == null) sb.append("none found\n");
        else sb.append("language_model (Qwen2ForCausalLM), hidden size ").append(config.text().hiddenSize())
                .append(", ").append(layerCount(lmBase)).append(" layers, ").append(fmt(parameters("language_model")))
                .append(" parameters\n");
        sb.append("\n[5] Config:\n");
        AudioEncoderConfig a = config.audio();
        TextConfig t = config.text();
        sb.append(String.format("    audio_config: d_model %d, encoder_layers %d, encoder_attention_heads %d (head dim %d), "
                        + "encoder_ffn_dim %d, num_mel_bins %d, max_source_positions %d, activation %s%n",
                a.dModel(), a.encoderLayers(), a.encoderAttentionHeads(), a.headDim(), a.encoderFfnDim(), a.numMelBins(),
                a.maxSourcePositions(), a.activationFunction()));
        sb.append(String.format("    text_config: vocab_size %d, hidden_size %d, num_hidden_layers %d, num_attention_heads %d, "
                        + "num_key_value_heads %d, head_dim %d, intermediate_size %d, max_position_embeddings %d, "
                        + "rms_norm_eps %s, rope_theta %s, tie_word_embeddings %s%n",
                t.vocabSize(), t.hiddenSize(), t.numHiddenLayers(), t.numAttentionHeads(), t.numKeyValueHeads(),
                t.headDim(), t.intermediateSize(), t.maxPositionEmbeddings(), t.rmsNormEps(), t.ropeTheta(),
                t.tieWordEmbeddings()));
        sb.append("    audio_token_index ").append(config.audioTokenIndex()).append('\n');
        sb.append("\n[6] Module tree (parameters, depth ").append(depth).append("):\n");
        treeText(root, 0, "(model)", sb);
        sb.append("\n[7] Linear layers that can take LoRA:\n");
        loraTargets().forEach((top, leaves) -> {
            sb.append("    ").append(top).append(":\n");
            leaves.forEach((leaf, paths) -> sb.append(String.format("      %-10s x%-4d %-14s e.g. %s%n", leaf, paths.size(),
                    Arrays.toString(shapes.get(paths.get(0) + ".weight")), String.join(", ", paths.subList(0, Math.min(2, paths.size()))))));
        });
        for (String note : loraNotes()) sb.append("    NOTE: ").append(note).append('\n');
        sb.append("\n[8] Encoding strategy: ");
        ObjectNode enc = (ObjectNode) j.get("encoding_strategy");
        if (audio != null) {
            sb.append("audio_tower — a separate audio encoder exists; use ").append(audio)
                    .append(" last_hidden_state, width ").append(a.dModel()).append(" (")
                    .append(enc.get("tokens_per_30s_window").asInt()).append(" tokens per 30 s window)\n");
        } else {
            sb.append("full_forward — no separate audio encoder; use the model's hidden states, width ")
                    .append(t.hiddenSize()).append('\n');
        }
        return sb.toString();
    }

    private void treeText(Node n, int level, String label, StringBuilder sb) {
        String type = n == root ? "" : typeOf(n.path, n);
        sb.append("    ").append("  ".repeat(level)).append(String.format("%-" + Math.max(1, 36 - 2 * level) + "s %-30s %s%n",
                label, type, fmt(n.count)));
        if (level >= depth) return;
        if (n.allNumericChildren() && repeated(n)) {
            Node first = n.children.values().iterator().next();
            sb.append("    ").append("  ".repeat(level + 1)).append(String.format("%-" + Math.max(1, 36 - 2 * (level + 1))
                    + "s %-30s %s each%n", "{0.." + (n.children.size() - 1) + "} x" + n.children.size(),
                    typeOf(first.path, first), fmt(first.count)));
            for (Node c : first.children.values()) treeText(c, level + 2, c.name, sb);
            return;
        }
        for (Node c : n.children.values()) treeText(c, level + 1, c.name, sb);
    }

    /** 637,000,000 -> "637.0M" style. */
    static String fmt(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 10_000L) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }

    private static long numel(long[] s) {
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }

    /** Name order with numeric segments compared as numbers (layers.2 before layers.10). */
    static final Comparator<String> NATURAL = (x, y) -> {
        String[] a = x.split("\\."), b = y.split("\\.");
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i].equals(b[i])) continue;
            boolean na = a[i].matches("\\d+"), nb = b[i].matches("\\d+");
            if (na && nb) return Long.compare(Long.parseLong(a[i]), Long.parseLong(b[i]));
            return a[i].compareTo(b[i]);
        }
        return Integer.compare(a.length, b.length);
    };
}
