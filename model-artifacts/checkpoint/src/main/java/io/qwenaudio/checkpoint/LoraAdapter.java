package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}), read into
 * memory as one {@link Target} per adapted Linear, named canonically (e.g.
 * {@code audio_tower.layers.3.self_attn.q_proj}). The merged weight is {@code W' = W + scale * B @ A} with
 * {@code scale = lora_alpha / r} ({@code lora_alpha / sqrt(r)} with {@code use_rslora}).
 *
 * <p>Accepted key forms: {@code base_model.model.audio_tower...}, {@code base_model.model.model.audio_tower...}
 * (newer transformers layout) and keys without the {@code base_model.model.} prefix; an adapter name between
 * {@code lora_A} and {@code weight} ({@code lora_A.default.weight}) is dropped.
 */
public record LoraAdapter(
        Path directory,
        int r,
        double loraAlpha,
        boolean useRslora,
        boolean fanInFanOut,
        List<String> targetModules,
        String baseModelNameOrPath,
        Map<String, Target> targets) {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    /**
     * One adapted Linear: {@code a} is lora_A [rank, in], {@code b} is lora_B [out, rank], both row-major float32.
     */
    public record Target(String module, int rank, int in, int out, float[] a, float[] b, double scale) {
        /** The canonical name of the base weight this target changes. */
        public String weightName() {
            return module + ".weight";
        }

        /** {@code scale * B @ A}, [out, in] row-major: the delta to add to the base weight. */
        public float[] delta() {
            float[] d = new float[out * in];
            for (int o = 0; o < out; o++) {
                for (int k = 0; k < rank; k++) {
                    float bk = (float) (scale * b[o * rank + k]);
                    if (bk == 0f) continue;
                    int ao = k * in, dof = o * in;
                    for (int i = 0; i < in; i++) d[dof + i] += bk * a[ao + i];
                }
            }
            return d;
        }
    }

    private static final Pattern LORA_KEY = Pattern.compile("(.+)\\.lora_([AB])(?:\\.[A-Za-z0-9_-]+)?\\.weight");

    /** What {@code adapter_config.json} says, as {@link #read} uses it. */
    private record Config(int r, double alpha, boolean rslora, boolean fanInFanOut, List<String> targetModules,
                          String base, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern) {

        /** The scale of a module's delta: its lora_alpha (alpha_pattern or lora_alpha) over r, or sqrt(r) with rsLoRA. */
        double scale(String module, int rank) {
            double a = patternValue(alphaPattern, module, alpha);
            return rslora ? a / Math.sqrt(rank) : a / rank;
        }
    }

    /** Reads an adapter directory; every problem is a {@link CheckpointException} naming the file or key. */
    public static LoraAdapter read(Path dir) {
        Config c = readConfig(dir);
        Path weights = weightsFile(dir);
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            Map<String, Target> targets = new LinkedHashMap<>();
            for (Map.Entry<String, String[]> e : modulePairs(f, weights).entrySet()) {
                targets.put(e.getKey(), target(f, weights, e.getKey(), e.getValue()[0], e.getValue()[1], c));
            }
            if (targets.isEmpty()) throw new CheckpointException(weights + " holds no LoRA tensors");
            return new LoraAdapter(dir, c.r(), c.alpha(), c.rslora(), c.fanInFanOut(), c.targetModules(), c.base(),
                    Collections.unmodifiableMap(targets));
        }
    }

    /** {@code adapter_config.json}: plain LoRA only (no DoRA), r positive. */
    private static Config readConfig(Path dir) {
        Path cfgFile = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(cfgFile)) {
            throw new CheckpointException("missing " + CONFIG_FILE + " in LoRA directory " + dir
                    + " (expected a PEFT adapter saved with save_pretrained)");
        }
        JsonNode cfg;
        try {
            cfg = new ObjectMapper().readTree(cfgFile.toFile());
        } catch (IOException e) {
            throw new CheckpointException(cfgFile + " is not valid JSON: " + e.getMessage(), e);
        }
        String peftType = cfg.path("peft_type").asText("LORA");
        if (!peftType.equalsIgnoreCase("LORA")) {
            throw new CheckpointException(cfgFile + ": peft_type is '" + peftType + "', only LORA is supported");
        }
        if (cfg.path("use_dora").asBoolean(false)) {
            throw new CheckpointException(cfgFile + ": use_dora is true; DoRA adapters are not supported, only plain LoRA");
        }
        int r = cfg.path("r").asInt(8);
        if (r <= 0) throw new CheckpointException(cfgFile + ": r must be positive, found " + cfg.path("r"));
        List<String> targetModules = new ArrayList<>();
        JsonNode tm = cfg.path("target_modules");
        if (tm.isArray()) tm.forEach(n -> targetModules.add(n.asText()));
        else if (tm.isTextual()) targetModules.add(tm.asText());
        String base = cfg.path("base_model_name_or_path").isTextual() ? cfg.path("base_model_name_or_path").asText() : null;
        return new Config(r, cfg.path("lora_alpha").asDouble(8), cfg.path("use_rslora").asBoolean(false),
                cfg.path("fan_in_fan_out").asBoolean(false), List.copyOf(targetModules), base,
                intMap(cfg.path("rank_pattern")), doubleMap(cfg.path("alpha_pattern")));
    }

    /** {@code adapter_model.safetensors}; a pickled {@code adapter_model.bin} is refused saying how to resave it. */
    private static Path weightsFile(Path dir) {
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            if (Files.isRegularFile(dir.resolve("adapter_model.bin"))) {
                throw new CheckpointException("LoRA directory " + dir + " holds adapter_model.bin; only "
                        + WEIGHTS_FILE + " is supported (save with safe_serialization=True, the PEFT default)");
            }
            throw new CheckpointException("missing " + WEIGHTS_FILE + " in LoRA directory " + dir);
        }
        return weights;
    }

    /** Canonical module name -> {lora_A key, lora_B key} (either may be null), sorted by module. */
    private static Map<String, String[]> modulePairs(SafetensorsFile f, Path weights) {
        Map<String, String[]> pairs = new TreeMap<>();
        for (String key : f.names()) {
            String k = key.startsWith("base_model.model.") ? key.substring("base_model.model.".length()) : key;
            var m = LORA_KEY.matcher(k);
            if (!m.matches()) {
                throw new CheckpointException(weights + ": unexpected tensor '" + key
                        + "'; expected '<module>.lora_A.weight' / '<module>.lora_B.weight' (plain LoRA)");
            }
            String module = KeyLayout.canonical(m.group(1));
            String[] p = pairs.computeIfAbsent(module, x -> new String[2]);
            p[m.group(2).equals("A") ? 0 : 1] = key;
        }
        return pairs;
    }

    /** One module's target: both matrices present, shapes [r, in] and [out, r], rank as the config says. */
    private static Target target(SafetensorsFile f, Path weights, String module, String aKey, String bKey, Config c) {
        if (aKey == null || bKey == null) {
            throw new CheckpointException(weights + ": module '" + module + "' has "
                    + (aKey == null ? "lora_B but no lora_A" : "lora_A but no lora_B"));
        }
        long[] as = f.shape(aKey), bs = f.shape(bKey);
        if (as.length != 2 || bs.length != 2 || as[0] != bs[1]) {
            throw new CheckpointException(weights + ": module '" + module + "' has lora_A " + Arrays.toString(as)
                    + " and lora_B " + Arrays.toString(bs) + "; expected [r, in] and [out, r] with the same r");
        }
        int rank = (int) as[0];
        int expectedRank = patternValue(c.rankPattern(), module, c.r());
        if (rank != expectedRank) {
            throw new CheckpointException(weights + ": module '" + module + "' has rank " + rank
                    + " but adapter_config.json says r=" + expectedRank);
        }
        return new Target(module, rank, (int) as[1], (int) bs[0], f.floats(aKey), f.floats(bKey), c.scale(module, rank));
    }

    /**
     * Targets whose base weight is absent from {@code base} or whose shape does not match [out, in]; empty when
     * the adapter fits the checkpoint. Each entry names the module and the problem.
     */
    public List<String> unknownTargets(TensorSource base) {
        List<String> bad = new ArrayList<>();
        for (Target t : targets.values()) {
            if (!base.has(t.weightName())) {
                bad.add(t.module() + " (no weight '" + t.weightName() + "' in the checkpoint)");
                continue;
            }
            long[] s = base.shape(t.weightName());
            if (s.length != 2 || s[0] != t.out() || s[1] != t.in()) {
                bad.add(t.module() + " (checkpoint weight " + Arrays.toString(s) + ", LoRA needs [" + t.out() + ", " + t.in() + "])");
            }
        }
        return bad;
    }

    /** Number of LoRA parameters (A and B of every target). */
    public long parameterCount() {
        long n = 0;
        for (Target t : targets.values()) n += (long) t.a().length + t.b().length;
        return n;
    }

    private static <T> T patternValue(Map<String, T> pattern, String module, T dflt) {
        for (Map.Entry<String, T> e : pattern.entrySet()) {
            String k = e.getKey();
            if (module.equals(k) || module.endsWith("." + k) || module.matches("(.*\\.)?" + k)) return e.getValue();
        }
        return dflt;
    }

    private static Map<String, Integer> intMap(JsonNode n) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) m.put(e.getKey(), e.getValue().asInt());
        return m;
    }

    private static Map<String, Double> doubleMap(JsonNode n) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) m.put(e.getKey(), e.getValue().asDouble());
        return m;
    }
}
