package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Generates a small, deterministic Qwen2-Audio checkpoint in the exact Hugging Face layout (config.json,
 * BF16 sharded safetensors with an index, generation_config.json, tokenizer files), plus optionally a PEFT LoRA
 * directory and a domain adapter directory. Same options and seed give byte-identical files.
 *
 * <p>Weights are random with fixed per-tensor seeds (the seed mixed with the tensor name), so any tensor can be
 * produced on its own; norms are near 1, linear weights have std 0.6/sqrt(fan_in), positions are Whisper's
 * sinusoids.
 */
public final class MakeTiny {

    /** Model sizes of a generated checkpoint. */
    public record Preset(String name,
                         int audioDModel, int audioLayers, int audioHeads, int audioFfn, int numMelBins,
                         int maxSourcePositions,
                         int textHidden, int textLayers, int textHeads, int textKvHeads, int textIntermediate,
                         int maxPositionEmbeddings, int numMerges, int vocabSize) {

        /** Without a fixed vocabulary size: the tokenizer's size padded to a multiple of 128, plus 128. */
        public Preset(String name, int audioDModel, int audioLayers, int audioHeads, int audioFfn, int numMelBins,
                      int maxSourcePositions, int textHidden, int textLayers, int textHeads, int textKvHeads,
                      int textIntermediate, int maxPositionEmbeddings, int numMerges) {
            this(name, audioDModel, audioLayers, audioHeads, audioFfn, numMelBins, maxSourcePositions, textHidden,
                    textLayers, textHeads, textKvHeads, textIntermediate, maxPositionEmbeddings, numMerges, 0);
        }

        /** The same widths with other layer counts (for per-layer timing: measure two counts and subtract). */
        public Preset withLayers(int audio, int text) {
            if (audio < 1 || text < 1) {
                throw new CheckpointException("layer counts must be >= 1, got audio " + audio + ", text " + text);
            }
            return new Preset(name, audioDModel, audio, audioHeads, audioFfn, numMelBins, maxSourcePositions, textHidden,
                    text, textHeads, textKvHeads, textIntermediate, maxPositionEmbeddings, numMerges, vocabSize);
        }
    }

    /** Default tiny sizes: head dims 16 on both sides. */
    public static final Preset TINY = new Preset("tiny", 64, 2, 4, 128, 128, 1500,
            64, 2, 4, 2, 128, 2048, 300);
    /** Odd sizes for parity tests: 3 audio heads, 6 text heads over 2 KV heads, 3 text layers. */
    public static final Preset ODD = new Preset("odd", 48, 3, 3, 80, 128, 1500,
            96, 3, 6, 2, 160, 2048, 300);

    /**
     * The real Qwen2-Audio audio encoder size (d_model 1280, 32 layers, 20 heads, ffn 5120: 637 M parameters,
     * 1.27 GB in BF16) with a tiny language model: for conversion scale checks and encoder benchmarks.
     */
    public static final Preset AUDIO_FULL = new Preset("audio-full", 1280, 32, 20, 5120, 128, 1500,
            64, 2, 4, 2, 128, 2048, 300);

    /**
     * A mid-size language model (hidden 1024, 8 layers, 8 heads of 128 with 8 KV heads like the real model's plain
     * multi-head attention, intermediate 2816: 103 M decoder parameters) with the tiny audio encoder: for decoder
     * benchmarks.
     */
    public static final Preset MID = new Preset("mid", 64, 2, 4, 128, 128, 1500,
            1024, 8, 8, 8, 2816, 4096, 300);

    /**
     * The real Qwen2-Audio-7B widths with 2 layers on each side: audio encoder d_model 1280, 20 heads, ffn 5120;
     * decoder hidden 4096, 32 heads over 32 KV heads, intermediate 11008, the real vocabulary size 156,032 (embedding
     * and lm_head 639 M parameters each) and context 8192. Per-layer time is measured by building it twice with
     * different layer counts ({@code make-tiny --text-layers}) and multiplied out to the real 32 layers.
     * About 1.73 B parameters (decoder layers 202 M each): 3.5 GB in BF16 on disk, 6.9 GB as fp32 artifacts.
     */
    public static final Preset WIDTHS_7B = new Preset("7b-widths", 1280, 2, 20, 5120, 128, 1500,
            4096, 2, 32, 32, 11008, 8192, 300, 156_032);

    /** The presets by name. */
    public static final Map<String, Preset> PRESETS = Map.of(TINY.name(), TINY, ODD.name(), ODD,
            AUDIO_FULL.name(), AUDIO_FULL, MID.name(), MID, WIDTHS_7B.name(), WIDTHS_7B);

    /**
     * What to generate: a preset, the seed, and optional extra directories for a LoRA adapter and a domain
     * adapter (null to skip).
     */
    public record Options(Preset preset, long seed, Path loraDir, Path adapterDir) {
        public static Options tiny(long seed) {
            return new Options(TINY, seed, null, null);
        }

        public static Options odd(long seed) {
            return new Options(ODD, seed, null, null);
        }

        public Options withLora(Path dir) {
            return new Options(preset, seed, dir, adapterDir);
        }

        public Options withAdapter(Path dir) {
            return new Options(preset, seed, loraDir, dir);
        }
    }

    /** LoRA settings of the generated adapter. */
    public static final int LORA_R = 4;
    public static final int LORA_ALPHA = 8;
    public static final String ADAPTER_ENVIRONMENT = "ldv";

    private static final ObjectMapper JSON = new ObjectMapper();

    private MakeTiny() {
    }

    /** Looks a preset up by name; the error lists the names. */
    public static Preset preset(String name) {
        Preset p = PRESETS.get(name);
        if (p == null) throw new CheckpointException("unknown preset '" + name + "', expected one of " + PRESETS.keySet());
        return p;
    }

    /** Writes the checkpoint (and the optional adapters); returns the config as read back from disk. */
    public static Qwen2AudioConfig write(Path dir, Options o) throws IOException {
        Files.createDirectories(dir);
        Preset p = o.preset();
        TinyTokenizer tok = TinyTokenizer.train(p.numMerges());
        int vocabSize = p.vocabSize() > 0 ? p.vocabSize()
                : (tok.size() + 127) / 128 * 128 + 128; // padded like the real model (151,6xx -> 156,032)
        if (vocabSize < tok.size()) {
            throw new CheckpointException("preset " + p.name() + ": vocab_size " + vocabSize + " is smaller than the "
                    + "tokenizer's " + tok.size() + " ids");
        }
        Files.writeString(dir.resolve("config.json"), configJson(p, tok, vocabSize), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("generation_config.json"), generationConfigJson(tok), StandardCharsets.UTF_8);
        tok.write(dir, 32768);
        Qwen2AudioConfig cfg = Qwen2AudioConfig.read(dir.resolve("config.json"));
        TensorSource weights = weights(cfg, o.seed());
        long total = 0;
        for (String n : weights.names()) total += numel(weights.shape(n)) * 2;
        SafetensorsWriter.writeCheckpoint(dir, weights, SafetensorsWriter.DType.BF16, total / 2 + 1); // >= 2 shards
        if (o.loraDir() != null) writeLora(o.loraDir(), cfg, o.seed(), dir.getFileName().toString());
        if (o.adapterDir() != null) writeDomainAdapter(o.adapterDir(), cfg.audio().dModel(), o.seed());
        return cfg;
    }

    static String configJson(Preset p, TinyTokenizer tok, int vocabSize) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add("Qwen2AudioForConditionalGeneration");
        ObjectNode a = root.putObject("audio_config");
        a.put("activation_function", "gelu").put("d_model", p.audioDModel())
                .put("encoder_attention_heads", p.audioHeads()).put("encoder_ffn_dim", p.audioFfn())
                .put("encoder_layers", p.audioLayers()).put("max_source_positions", p.maxSourcePositions())
                .put("model_type", "qwen2_audio_encoder").put("num_mel_bins", p.numMelBins())
                .put("scale_embedding", false);
        root.put("audio_token_index", tok.specialId("<|AUDIO|>"));
        root.put("model_type", "qwen2_audio");
        ObjectNode t = root.putObject("text_config");
        t.put("bos_token_id", tok.specialId("<|endoftext|>")).put("eos_token_id", tok.specialId("<|im_end|>"))
                .put("hidden_act", "silu").put("hidden_size", p.textHidden())
                .put("intermediate_size", p.textIntermediate()).put("max_position_embeddings", p.maxPositionEmbeddings())
                .put("model_type", "qwen2").put("num_attention_heads", p.textHeads())
                .put("num_hidden_layers", p.textLayers()).put("num_key_value_heads", p.textKvHeads())
                .put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0).put("tie_word_embeddings", false)
                .put("torch_dtype", "bfloat16").put("use_mrope", false).put("vocab_size", vocabSize);
        root.put("torch_dtype", "bfloat16");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }

    static String generationConfigJson(TinyTokenizer tok) throws IOException {
        ObjectNode g = JSON.createObjectNode();
        g.put("bos_token_id", tok.specialId("<|endoftext|>"));
        g.put("do_sample", true);
        ArrayNode eos = g.putArray("eos_token_id");
        eos.add(tok.specialId("<|im_end|>")).add(tok.specialId("<|endoftext|>"));
        g.put("pad_token_id", tok.specialId("<|endoftext|>"));
        g.put("repetition_penalty", 1.1);
        g.put("temperature", 0.7);
        g.put("top_k", 20);
        g.put("top_p", 0.5);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(g) + "\n";
    }

    /** Every weight of the model (canonical hub names) as a lazy source: each tensor is generated when read. */
    public static TensorSource weights(Qwen2AudioConfig cfg, long seed) {
        Map<String, long[]> shapes = shapes(cfg);
        int positions = cfg.audio().maxSourcePositions();
        int d = cfg.audio().dModel();
        return new TensorSource() {
            @Override
            public Set<String> names() {
                return shapes.keySet();
            }

            @Override
            public long[] shape(String name) {
                long[] s = shapes.get(name);
                if (s == null) throw new CheckpointException("missing tensor '" + name + "'");
                return s.clone();
            }

            @Override
            public String dtype(String name) {
                shape(name);
                return "F32";
            }

            @Override
            public float[] floats(String name) {
                long[] s = shape(name);
                if (name.equals("audio_tower.embed_positions.weight")) return sinusoids(positions, d);
                return random(name, s, seed);
            }
        };
    }

    /** Names and shapes of every tensor of a Qwen2-Audio model with this config, in module order. */
    public static Map<String, long[]> shapes(Qwen2AudioConfig cfg) {
        AudioEncoderConfig a = cfg.audio();
        TextConfig t = cfg.text();
        long d = a.dModel(), f = a.encoderFfnDim();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("audio_tower.conv1.weight", new long[]{d, a.numMelBins(), 3});
        m.put("audio_tower.conv1.bias", new long[]{d});
        m.put("audio_tower.conv2.weight", new long[]{d, d, 3});
        m.put("audio_tower.conv2.bias", new long[]{d});
        m.put("audio_tower.embed_positions.weight", new long[]{a.maxSourcePositions(), d});
        for (int i = 0; i < a.encoderLayers(); i++) {
            String p = "audio_tower.layers." + i + ".";
            m.put(p + "self_attn.k_proj.weight", new long[]{d, d});
            for (String proj : List.of("v_proj", "q_proj", "out_proj")) {
                m.put(p + "self_attn." + proj + ".weight", new long[]{d, d});
                m.put(p + "self_attn." + proj + ".bias", new long[]{d});
            }
            m.put(p + "self_attn_layer_norm.weight", new long[]{d});
            m.put(p + "self_attn_layer_norm.bias", new long[]{d});
            m.put(p + "fc1.weight", new long[]{f, d});
            m.put(p + "fc1.bias", new long[]{f});
            m.put(p + "fc2.weight", new long[]{d, f});
            m.put(p + "fc2.bias", new long[]{d});
            m.put(p + "final_layer_norm.weight", new long[]{d});
            m.put(p + "final_layer_norm.bias", new long[]{d});
        }
        m.put("audio_tower.layer_norm.weight", new long[]{d});
        m.put("audio_tower.layer_norm.bias", new long[]{d});
        long h = t.hiddenSize(), q = (long) t.numAttentionHeads() * t.headDim(), kv = (long) t.numKeyValueHeads() * t.headDim();
        long inter = t.intermediateSize(), v = t.vocabSize();
        m.put("multi_modal_projector.linear.weight", new long[]{h, d});
        m.put("multi_modal_projector.linear.bias", new long[]{h});
        m.put("language_model.model.embed_tokens.weight", new long[]{v, h});
        for (int i = 0; i < t.numHiddenLayers(); i++) {
            String p = "language_model.model.layers." + i + ".";
            m.put(p + "self_attn.q_proj.weight", new long[]{q, h});
            m.put(p + "self_attn.q_proj.bias", new long[]{q});
            m.put(p + "self_attn.k_proj.weight", new long[]{kv, h});
            m.put(p + "self_attn.k_proj.bias", new long[]{kv});
            m.put(p + "self_attn.v_proj.weight", new long[]{kv, h});
            m.put(p + "self_attn.v_proj.bias", new long[]{kv});
            m.put(p + "self_attn.o_proj.weight", new long[]{h, q});
            m.put(p + "mlp.gate_proj.weight", new long[]{inter, h});
            m.put(p + "mlp.up_proj.weight", new long[]{inter, h});
            m.put(p + "mlp.down_proj.weight", new long[]{h, inter});
            m.put(p + "input_layernorm.weight", new long[]{h});
            m.put(p + "post_attention_layernorm.weight", new long[]{h});
        }
        m.put("language_model.model.norm.weight", new long[]{h});
        m.put("language_model.lm_head.weight", new long[]{v, h});
        return m;
    }

    /**
     * Whisper's fixed position table: row t is [sin(t * inv_k) for k < C/2, cos(t * inv_k) for k < C/2] with
     * inv_k = exp(-k * ln(10000) / (C/2 - 1)). [length, channels]
     */
    public static float[] sinusoids(int length, int channels) {
        int half = channels / 2;
        double inc = Math.log(10000.0) / (half - 1);
        float[] out = new float[length * channels];
        for (int t = 0; t < length; t++) {
            for (int k = 0; k < half; k++) {
                double x = t * Math.exp(-inc * k);
                out[t * channels + k] = (float) Math.sin(x);
                out[t * channels + half + k] = (float) Math.cos(x);
            }
        }
        return out;
    }

    private static float[] random(String name, long[] shape, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        int n = (int) numel(shape);
        float[] out = new float[n];
        boolean norm = name.contains("norm") || name.endsWith("layernorm.weight");
        double mean = 0, std;
        if (norm && name.endsWith(".weight")) {
            mean = 1.0;
            std = 0.05;
        } else if (name.endsWith("bias") || norm) {
            std = 0.02;
        } else if (name.endsWith("embed_tokens.weight")) {
            std = 0.1;
        } else {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
            std = 0.6 / Math.sqrt(fanIn);
        }
        for (int i = 0; i < n; i++) out[i] = (float) (mean + std * rnd.nextGaussian());
        return out;
    }

    private static long numel(long[] s) {
        long n = 1;
        for (long x : s) n *= x;
        return n;
    }

    /**
     * Writes a PEFT LoRA directory for q/k/v of every audio-tower layer: adapter_config.json (peft_type LORA,
     * r 4, lora_alpha 8) and adapter_model.safetensors (F32) with {@code base_model.model.audio_tower...} keys
     * and nonzero B, so merging changes the weights.
     */
    public static void writeLora(Path dir, Qwen2AudioConfig cfg, long seed, String baseModel) throws IOException {
        Files.createDirectories(dir);
        ObjectNode c = JSON.createObjectNode();
        c.putNull("auto_mapping");
        c.put("base_model_name_or_path", baseModel);
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("lora_alpha", LORA_ALPHA);
        c.put("lora_dropout", 0.0);
        c.putNull("modules_to_save");
        c.put("peft_type", "LORA");
        c.put("r", LORA_R);
        ArrayNode tm = c.putArray("target_modules");
        tm.add("q_proj").add("k_proj").add("v_proj");
        c.putNull("task_type");
        c.put("use_rslora", false);
        Files.writeString(dir.resolve(LoraAdapter.CONFIG_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n",
                StandardCharsets.UTF_8);
        InMemoryTensorSource src = new InMemoryTensorSource();
        int d = cfg.audio().dModel();
        for (int i = 0; i < cfg.audio().encoderLayers(); i++) {
            for (String proj : List.of("q_proj", "k_proj", "v_proj")) {
                String p = "base_model.model.audio_tower.layers." + i + ".self_attn." + proj;
                src.put(p + ".lora_A.weight", scaled(p + ".lora_A.weight", LORA_R * d, 1.0 / Math.sqrt(d), seed), LORA_R, d);
                src.put(p + ".lora_B.weight", scaled(p + ".lora_B.weight", d * LORA_R, 0.05, seed), d, LORA_R);
            }
        }
        SafetensorsWriter.writeFile(dir.resolve(LoraAdapter.WEIGHTS_FILE), src, SafetensorsWriter.DType.F32);
    }

    /**
     * Writes a domain adapter directory: a lightweight-like config scaled to {@code dModel} (1 layer, 4 heads,
     * ff_dim 2*dModel, scalar gate, environment "ldv") and adapter.safetensors (F32) with {@code adapter.}
     * prefixed names.
     */
    public static DomainAdapterConfig writeDomainAdapter(Path dir, int dModel, long seed) throws IOException {
        DomainAdapterConfig c = new DomainAdapterConfig("lightweight", dModel, 1, 4, 2 * dModel, 0.1, "gelu", true,
                1e-5, "sinusoidal", true, "scalar", 0.1, ADAPTER_ENVIRONMENT);
        writeDomainAdapter(dir, c, seed);
        return c;
    }

    /** Writes {@code adapter_config.json} of {@code c} and random weights of every tensor it implies into {@code dir}. */
    public static void writeDomainAdapter(Path dir, DomainAdapterConfig c, long seed) throws IOException {
        c.write(dir);
        InMemoryTensorSource src = new InMemoryTensorSource();
        for (Map.Entry<String, long[]> e : DomainAdapterWeights.expectedShapes(c).entrySet()) {
            String name = e.getKey();
            long[] s = e.getValue();
            float[] data;
            if (name.equals("scale")) data = new float[]{(float) c.scaleInit()};
            else data = random("adapter." + name, s, seed);
            src.put("adapter." + name, data, s);
        }
        SafetensorsWriter.writeFile(dir.resolve(DomainAdapterWeights.WEIGHTS_FILE), src, SafetensorsWriter.DType.F32);
    }

    private static float[] scaled(String name, int n, double std, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (std * rnd.nextGaussian());
        return out;
    }
}
