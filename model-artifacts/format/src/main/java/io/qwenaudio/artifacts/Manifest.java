package io.qwenaudio.artifacts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code manifest.json} of an artifacts directory: what the converter produced and everything the serving side
 * needs without reading the Hugging Face checkpoint again — the graphs with their input/output names, shapes
 * (numbers, or strings for symbolic dims) and dtypes, the model dims, special token ids, generation defaults,
 * adapters, LoRA provenance, the source {@code config.json}, the sha256 and size of every file, the prompt format
 * ({@code chat} or {@code raw}) and the file holding the checkpoint's own chat template (absent: ChatML fallback).
 *
 * <p>JSON keys are snake_case. The serving side opens an artifacts dir with {@link #read} then {@link #verify}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        int formatVersion,
        String createdBy,
        String modelType,
        String dtype,
        AudioDims audio,
        TextDims text,
        SpecialTokens specialTokens,
        JsonNode generation,
        Map<String, GraphSpec> graphs,
        Map<String, AdapterSpec> adapters,
        List<LoraSpec> lora,
        List<String> tokenizerFiles,
        JsonNode sourceConfig,
        Map<String, FileEntry> files,
        String promptFormat,
        String chatTemplate) {

    public static final String FILE = "manifest.json";
    public static final int FORMAT_VERSION = 1;

    /** Graph keys in {@link #graphs}. */
    public static final String AUDIO_ENCODER = "audio_encoder";
    public static final String PROJECTOR = "projector";
    public static final String EMBED_TOKENS = "embed_tokens";
    public static final String DECODER = "decoder";

    /** {@link #promptFormat}: text prompts go through the chat template (the default; absent means this). */
    public static final String PROMPT_CHAT = "chat";
    /** {@link #promptFormat}: a base checkpoint; text prompts become {@code <|audio_bos|><|AUDIO|><|audio_eos|>} + text. */
    public static final String PROMPT_RAW = "raw";
    /** The file the checkpoint's own chat template is copied to (named by {@link #chatTemplate}). */
    public static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    /** Without a prompt format or chat template (manifests written before they existed). */
    public Manifest(int formatVersion, String createdBy, String modelType, String dtype, AudioDims audio, TextDims text,
                    SpecialTokens specialTokens, JsonNode generation, Map<String, GraphSpec> graphs,
                    Map<String, AdapterSpec> adapters, List<LoraSpec> lora, List<String> tokenizerFiles,
                    JsonNode sourceConfig, Map<String, FileEntry> files) {
        this(formatVersion, createdBy, modelType, dtype, audio, text, specialTokens, generation, graphs, adapters, lora,
                tokenizerFiles, sourceConfig, files, null, null);
    }

    /** True when text prompts default to the raw form ({@code convert --prompt-format raw}). */
    public boolean rawPrompts() {
        return PROMPT_RAW.equals(promptFormat);
    }

    public record AudioDims(int dModel, int numMelBins, int encoderLayers, int positionsPerWindow) {
    }

    public record TextDims(int hiddenSize, int vocabSize, int numLayers, int numAttentionHeads, int numKeyValueHeads,
                           int headDim, int maxPositionEmbeddings) {
    }

    /** Ids read from the tokenizer files and cross-checked with config.json. */
    public record SpecialTokens(int audioTokenId, int audioBosId, int audioEosId, int imStartId, int imEndId,
                                int endOfTextId, List<Integer> eosTokenIds) {
    }

    /** One tensor of a graph's signature: name, dtype ({@code float32}, {@code int64}, ...) and shape. */
    public record IoSpec(String name, String dtype, List<Object> shape) {
    }

    /**
     * A graph file, its external data file (may be null), its signature, its dtype ({@code fp32}, {@code fp16},
     * {@code int8}, {@code int4}, {@code bf16}; null in manifests written before it was recorded: fp32), its op set
     * ({@code standard}: standard ONNX opset-17 ops only, runs on any runtime; {@code fused}: ONNX Runtime contrib
     * ops) and the non-standard ops it needs ({@code com.microsoft:GroupQueryAttention}, ...), which serving checks
     * against the installed runtime before opening it.
     */
    public record GraphSpec(String file, String data, List<IoSpec> inputs, List<IoSpec> outputs, String dtype,
                            String opSet, List<String> ops) {
        public GraphSpec(String file, String data, List<IoSpec> inputs, List<IoSpec> outputs) {
            this(file, data, inputs, outputs, null, null, null);
        }

        /** The same graph with its files moved under {@code prefix} (e.g. {@code adapters/ldv/}). */
        public GraphSpec under(String prefix) {
            return new GraphSpec(prefix + file, data == null ? null : prefix + data, inputs, outputs, dtype, opSet, ops);
        }

        /** The non-standard ops this graph needs (empty when none or not recorded). */
        public List<String> requiredOps() {
            return ops == null ? List.of() : ops;
        }
    }

    /**
     * A domain adapter: the environment it maps from, its graph, its adapter_config.json and its diagnostics graph
     * ({@code adapter_diagnostics.onnx}: gate, delta and every layer's attention weights; null in artifacts
     * converted before it existed).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record AdapterSpec(String environment, GraphSpec graph, JsonNode config, GraphSpec diagnostics) {
        public AdapterSpec(String environment, GraphSpec graph, JsonNode config) {
            this(environment, graph, config, null);
        }
    }

    /** A PEFT LoRA merged into the audio tower at conversion. */
    public record LoraSpec(String source, int r, double loraAlpha, double scale, int targets, List<String> targetModules) {
    }

    public record FileEntry(String sha256, long size) {
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public static ObjectMapper json() {
        return JSON;
    }

    /** Reads {@code <dir>/manifest.json}; the error says how to make one. */
    public static Manifest read(Path dir) {
        Path f = dir.resolve(FILE);
        try {
            Manifest m = JSON.readValue(f.toFile(), Manifest.class);
            if (m.formatVersion() != FORMAT_VERSION) {
                throw new ArtifactsException(f + ": manifest format " + m.formatVersion() + " is not supported (expected "
                        + FORMAT_VERSION + "); convert the checkpoint again with this version's qwen-audio convert");
            }
            return m;
        } catch (NoSuchFileException | FileNotFoundException e) {
            throw new ArtifactsException("no " + FILE + " in " + dir + ": not an artifacts directory; create one with "
                    + "'qwen-audio convert <checkpoint-dir> --out " + dir + "'");
        } catch (IOException e) {
            throw new ArtifactsException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code <dir>/manifest.json} atomically (temp file, then move). */
    public void write(Path dir) throws IOException {
        Path tmp = dir.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Checks every listed file exists with the recorded size and sha256; the message names the first bad file. */
    public void verify(Path dir) {
        verify(dir, files.keySet());
    }

    /**
     * Checks the given files (paths relative to {@code dir}, as listed in {@link #files}) against their recorded
     * size and sha256, so that a stage verifies only what it loads.
     */
    public void verify(Path dir, Collection<String> relative) {
        for (String r : relative) {
            FileEntry entry = files.get(r);
            if (entry == null) {
                throw new ArtifactsException(r + " is not listed in " + dir.resolve(FILE) + "; convert again");
            }
            Map.Entry<String, FileEntry> e = Map.entry(r, entry);
            Path p = dir.resolve(e.getKey());
            if (!Files.isRegularFile(p)) {
                throw new ArtifactsException("artifact file missing: " + p + " (listed in " + FILE + "); convert again");
            }
            try {
                long size = Files.size(p);
                if (size != e.getValue().size()) {
                    throw new ArtifactsException("artifact file " + p + " has " + size + " bytes, " + FILE + " says "
                            + e.getValue().size() + ": the file is truncated or was replaced; convert again");
                }
                String sha = sha256(p);
                if (!sha.equals(e.getValue().sha256())) {
                    throw new ArtifactsException("artifact file " + p + " has sha256 " + sha + ", " + FILE + " says "
                            + e.getValue().sha256() + ": the file was altered; convert again (or turn checksum "
                            + "verification off if you changed it on purpose)");
                }
            } catch (IOException ex) {
                throw new ArtifactsException("cannot read " + p + ": " + ex.getMessage(), ex);
            }
        }
    }

    /** sha256 and size of the given files (paths relative to {@code dir}), sorted by name. */
    public static Map<String, FileEntry> hashFiles(Path dir, List<String> relative) throws IOException {
        Map<String, FileEntry> out = new TreeMap<>();
        for (String r : relative) {
            Path p = dir.resolve(r);
            out.put(r, new FileEntry(sha256(p), Files.size(p)));
        }
        return out;
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The graph with the given key; the error lists what the manifest has. */
    public GraphSpec graph(String key) {
        GraphSpec g = graphs == null ? null : graphs.get(key);
        if (g == null) {
            throw new ArtifactsException(FILE + " has no graph '" + key + "' (it has " + (graphs == null ? "none" : graphs.keySet())
                    + "); convert the checkpoint again");
        }
        return g;
    }

    public Manifest withAdapters(Map<String, AdapterSpec> a) {
        return new Manifest(formatVersion, createdBy, modelType, dtype, audio, text, specialTokens, generation, graphs, a,
                lora, tokenizerFiles, sourceConfig, files, promptFormat, chatTemplate);
    }

    public Manifest withFiles(Map<String, FileEntry> f) {
        return new Manifest(formatVersion, createdBy, modelType, dtype, audio, text, specialTokens, generation, graphs,
                adapters, lora, tokenizerFiles, sourceConfig, f, promptFormat, chatTemplate);
    }
}
