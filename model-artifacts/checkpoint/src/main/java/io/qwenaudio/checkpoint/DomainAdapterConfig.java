package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code adapter_config.json} of a transformer domain adapter (between the audio tower and the projector).
 * The sizes {@code num_layers}, {@code num_heads} and {@code ff_dim} the file gives are used as they are,
 * whatever the preset is called ({@code "custom"} or any other name); a known preset only fills the sizes the
 * file leaves out: lightweight L=1 H=4 F=1024, standard L=2 H=8 F=2048, heavy L=4 H=16 F=4096. A file that
 * leaves a size out under a preset that is not one of these is refused, naming the missing fields.
 * Other defaults: preset standard, input_dim 1280, dropout 0.1, activation gelu, norm_first true,
 * layer_norm_eps 1e-5, positional_encoding sinusoidal, use_gate true, gate_type scalar, scale_init 0.1,
 * environment "default". Whether the sizes agree with the weights is checked by
 * {@link DomainAdapterWeights#validate}.
 */
public record DomainAdapterConfig(
        String preset,
        int inputDim,
        int numLayers,
        int numHeads,
        int ffDim,
        double dropout,
        String activation,
        boolean normFirst,
        double layerNormEps,
        String positionalEncoding,
        boolean useGate,
        String gateType,
        double scaleInit,
        String environment) {

    public static final String CONFIG_FILE = "adapter_config.json";

    /** Size presets: layers, heads, ff_dim. */
    public static final Map<String, int[]> PRESETS = Map.of(
            "lightweight", new int[]{1, 4, 1024},
            "standard", new int[]{2, 8, 2048},
            "heavy", new int[]{4, 16, 4096});

    /** The preset names, in size order, as error messages list them. */
    private static final List<String> PRESET_NAMES = List.of("lightweight", "standard", "heavy");

    /** The size fields a preset fills, in the order of a preset's sizes. */
    private static final List<String> SIZE_FIELDS = List.of("num_layers", "num_heads", "ff_dim");

    public DomainAdapterConfig {
        validate(preset, inputDim, numLayers, numHeads, ffDim, dropout, activation, layerNormEps, positionalEncoding,
                gateType, environment);
    }

    /** A preset with the given input width and environment, other fields at their defaults. */
    public static DomainAdapterConfig preset(String preset, int inputDim, String environment) {
        int[] p = presetSizes(preset);
        return new DomainAdapterConfig(preset, inputDim, p[0], p[1], p[2], 0.1, "gelu", true, 1e-5, "sinusoidal",
                true, "scalar", 0.1, environment);
    }

    /** Reads {@code adapter_config.json} from an adapter directory (or the file itself). */
    public static DomainAdapterConfig read(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(CONFIG_FILE) : dirOrFile;
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("missing " + CONFIG_FILE + " in domain adapter directory " + dirOrFile);
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) throw new CheckpointException(file + " must hold a JSON object");
        String where = file.toString();
        try {
            String preset = presetField(n);
            int[] sizes = sizes(n, preset);
            return new DomainAdapterConfig(preset,
                    intField(n, "input_dim", 1280),
                    sizes[0], sizes[1], sizes[2],
                    n.path("dropout").asDouble(0.1),
                    n.path("activation").asText("gelu"),
                    n.path("norm_first").asBoolean(true),
                    n.path("layer_norm_eps").asDouble(1e-5),
                    n.path("positional_encoding").asText("sinusoidal"),
                    n.path("use_gate").asBoolean(true),
                    n.path("gate_type").asText("scalar"),
                    n.path("scale_init").asDouble(0.1),
                    n.path("environment").asText("default"));
        } catch (CheckpointException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
    }

    /** {@code preset}: any non-empty name, {@code standard} when absent. */
    private static String presetField(JsonNode n) {
        JsonNode v = n.get("preset");
        if (v == null || v.isNull()) return "standard";
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new CheckpointException("preset must be a non-empty name (one of " + PRESET_NAMES
                    + ", or e.g. \"custom\" with explicit num_layers, num_heads and ff_dim), found " + v);
        }
        return v.asText();
    }

    /**
     * num_layers, num_heads, ff_dim: as given, the missing ones from a known preset; refused when some are missing
     * and the preset is not known.
     */
    private static int[] sizes(JsonNode n, String preset) {
        int[] fromPreset = PRESETS.get(preset);
        int[] sizes = new int[SIZE_FIELDS.size()];
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            String field = SIZE_FIELDS.get(i);
            Integer v = intField(n, field);
            if (v != null) sizes[i] = v;
            else if (fromPreset != null) sizes[i] = fromPreset[i];
            else missing.add(field);
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(String.join(", ", missing) + (missing.size() == 1 ? " is" : " are")
                    + " missing and preset '" + preset + "' is not one of " + PRESET_NAMES
                    + " to fill " + (missing.size() == 1 ? "it" : "them") + ": give " + String.join(", ", missing)
                    + " in " + CONFIG_FILE + " or name a known preset");
        }
        return sizes;
    }

    /** Writes this config as {@code adapter_config.json} into {@code dir}. */
    public void write(Path dir) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("preset", preset).put("input_dim", inputDim).put("num_layers", numLayers).put("num_heads", numHeads)
                .put("ff_dim", ffDim).put("dropout", dropout).put("activation", activation).put("norm_first", normFirst)
                .put("layer_norm_eps", layerNormEps).put("positional_encoding", positionalEncoding)
                .put("use_gate", useGate).put("gate_type", gateType).put("scale_init", scaleInit)
                .put("environment", environment);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(CONFIG_FILE), m.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n",
                StandardCharsets.UTF_8);
    }

    public int headDim() {
        return inputDim / numHeads;
    }

    private static int[] presetSizes(String preset) {
        int[] p = PRESETS.get(preset);
        if (p == null) throw new CheckpointException("preset is '" + preset + "', expected one of " + PRESET_NAMES);
        return p;
    }

    private static void validate(String preset, int inputDim, int numLayers, int numHeads, int ffDim, double dropout,
                                 String activation, double eps, String pe, String gateType, String environment) {
        if (preset == null || preset.isBlank()) throw new CheckpointException("preset must be a non-empty name");
        if (inputDim <= 0) throw new CheckpointException("input_dim must be positive, found " + inputDim);
        if (numLayers < 0) throw new CheckpointException("num_layers must not be negative, found " + numLayers);
        if (numHeads <= 0) throw new CheckpointException("num_heads must be positive, found " + numHeads);
        if (inputDim % numHeads != 0) {
            throw new CheckpointException("num_heads " + numHeads + " does not divide input_dim " + inputDim);
        }
        if (ffDim <= 0) throw new CheckpointException("ff_dim must be positive, found " + ffDim);
        if (!(dropout >= 0 && dropout < 1)) throw new CheckpointException("dropout must be in [0, 1), found " + dropout);
        if (!List.of("gelu", "relu").contains(activation)) {
            throw new CheckpointException("activation is '" + activation + "', expected gelu or relu");
        }
        if (!(eps > 0)) throw new CheckpointException("layer_norm_eps must be positive, found " + eps);
        if (!List.of("sinusoidal", "none").contains(pe)) {
            throw new CheckpointException("positional_encoding is '" + pe + "', expected sinusoidal or none");
        }
        if (!List.of("scalar", "channel").contains(gateType)) {
            throw new CheckpointException("gate_type is '" + gateType + "', expected scalar or channel");
        }
        if (environment == null || environment.isBlank()) {
            throw new CheckpointException("environment must be a non-empty name (e.g. \"ldv\")");
        }
    }

    private static int intField(JsonNode n, String field, int dflt) {
        Integer v = intField(n, field);
        return v == null ? dflt : v;
    }

    /** An integer field, or null when absent. */
    private static Integer intField(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new CheckpointException(field + " must be an integer, found " + v);
        }
        return v.asInt();
    }
}
