package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Qwen2-Audio {@code config.json} ({@code Qwen2AudioConfig}): nested audio and text configs plus the audio
 * placeholder token id. {@code rawJson} keeps the file as read, for the artifacts manifest.
 *
 * <p>{@link #read(Path)} applies the transformers defaults for every absent field, as {@code from_pretrained}
 * does: the published Qwen2-Audio-7B config only sets a few {@code text_config} fields (vocab 156032,
 * intermediate 11008, max positions 8192, rms eps 1e-5) and leaves {@code audio_config} almost empty.
 */
public record Qwen2AudioConfig(
        String modelType,
        AudioEncoderConfig audio,
        TextConfig text,
        int audioTokenIndex,
        String rawJson) {

    /** The {@code model_type} this project reads. */
    public static final String MODEL_TYPE = "qwen2_audio";
    /** transformers default of {@code audio_token_index}. */
    public static final int DEFAULT_AUDIO_TOKEN_INDEX = 151646;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code config.json} (a file, or a checkpoint directory holding one). */
    public static Qwen2AudioConfig read(Path configJson) {
        Path file = Files.isDirectory(configJson) ? configJson.resolve("config.json") : configJson;
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("missing config.json: " + file
                    + " (a Hugging Face checkpoint directory needs config.json next to the safetensors files)");
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses the text of a {@code config.json}; {@code where} names it in error messages. */
    public static Qwen2AudioConfig parse(String json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new CheckpointException(where + " is not valid JSON: " + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(where + " must hold a JSON object");
        }
        String modelType = root.path("model_type").asText(null);
        if (!MODEL_TYPE.equals(modelType)) {
            throw new CheckpointException(where + ": model_type is " + (modelType == null ? "absent" : "'" + modelType + "'")
                    + ", expected '" + MODEL_TYPE + "' (a Qwen2-Audio checkpoint such as Qwen/Qwen2-Audio-7B-Instruct)");
        }
        AudioEncoderConfig audio = audioConfig(root.path("audio_config"), where);
        TextConfig text = textConfig(root.path("text_config"), where);
        int audioToken = root.has("audio_token_index") ? intField(root, "audio_token_index", 0, where)
                : root.has("audio_token_id") ? intField(root, "audio_token_id", 0, where) : DEFAULT_AUDIO_TOKEN_INDEX;
        return new Qwen2AudioConfig(modelType, audio, text, audioToken, json);
    }

    /** {@code architectures} from the raw config (e.g. {@code Qwen2AudioForConditionalGeneration}); may be empty. */
    public List<String> architectures() {
        List<String> out = new ArrayList<>();
        try {
            for (JsonNode n : JSON.readTree(rawJson).path("architectures")) out.add(n.asText());
        } catch (IOException e) {
            throw new CheckpointException("config JSON no longer parses: " + e.getMessage(), e);
        }
        return out;
    }

    // Qwen2AudioEncoderConfig defaults (configuration_qwen2_audio.py); the same values are used when
    // audio_config is absent altogether.
    private static AudioEncoderConfig audioConfig(JsonNode a, String where) {
        String w = where + " audio_config";
        if (!a.isMissingNode() && !a.isNull() && !a.isObject()) throw new CheckpointException(w + " must be an object");
        String type = a.path("model_type").asText("qwen2_audio_encoder");
        if (!type.equals("qwen2_audio_encoder")) {
            throw new CheckpointException(w + ".model_type is '" + type + "', expected 'qwen2_audio_encoder'");
        }
        int dModel = intField(a, "d_model", 1280, w);
        int layers = a.has("encoder_layers") ? intField(a, "encoder_layers", 32, w) : intField(a, "num_hidden_layers", 32, w);
        int heads = intField(a, "encoder_attention_heads", 20, w);
        int ffn = intField(a, "encoder_ffn_dim", 5120, w);
        int mel = intField(a, "num_mel_bins", 128, w);
        int pos = intField(a, "max_source_positions", 1500, w);
        String act = a.path("activation_function").asText("gelu");
        boolean scale = a.path("scale_embedding").asBoolean(false);
        if (dModel % heads != 0) {
            throw new CheckpointException(w + ": d_model " + dModel + " is not divisible by encoder_attention_heads " + heads);
        }
        return new AudioEncoderConfig(dModel, layers, heads, ffn, mel, pos, act, scale);
    }

    // Qwen2Config defaults (models/qwen2/configuration_qwen2.py); rope theta from rope_theta or
    // rope_parameters.rope_theta, default 10000 (PreTrainedConfig default_theta).
    private static TextConfig textConfig(JsonNode t, String where) {
        String w = where + " text_config";
        if (!t.isMissingNode() && !t.isNull() && !t.isObject()) throw new CheckpointException(w + " must be an object");
        String type = t.path("model_type").asText("qwen2");
        if (!type.equals("qwen2")) {
            throw new CheckpointException(w + ".model_type is '" + type + "', expected 'qwen2'");
        }
        int vocab = intField(t, "vocab_size", 151936, w);
        int hidden = intField(t, "hidden_size", 4096, w);
        int inter = intField(t, "intermediate_size", 22016, w);
        int layers = intField(t, "num_hidden_layers", 32, w);
        int heads = intField(t, "num_attention_heads", 32, w);
        JsonNode kv = t.get("num_key_value_heads");
        int kvHeads = kv == null || kv.isNull() ? heads : intField(t, "num_key_value_heads", heads, w);
        JsonNode hd = t.get("head_dim");
        if ((hd == null || hd.isNull()) && hidden % heads != 0) {
            throw new CheckpointException(w + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
        }
        int headDim = hd == null || hd.isNull() ? hidden / heads : intField(t, "head_dim", 0, w);
        if (heads % kvHeads != 0) {
            throw new CheckpointException(w + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        String act = t.path("hidden_act").asText("silu");
        int maxPos = intField(t, "max_position_embeddings", 32768, w);
        double eps = t.path("rms_norm_eps").asDouble(1e-6);
        double theta = t.has("rope_theta") ? t.get("rope_theta").asDouble()
                : t.path("rope_parameters").path("rope_theta").asDouble(10000.0);
        boolean tie = t.path("tie_word_embeddings").asBoolean(false);
        Integer bos = optionalId(t.get("bos_token_id"));
        Integer eos = optionalId(t.get("eos_token_id"));
        return new TextConfig(vocab, hidden, inter, layers, heads, kvHeads, headDim, act, maxPos, eps, theta, tie,
                bos, eos);
    }

    private static Integer optionalId(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isArray()) return n.size() == 0 ? null : n.get(0).asInt();
        return n.asInt();
    }

    private static int intField(JsonNode node, String field, int dflt, String where) {
        JsonNode n = node.get(field);
        if (n == null || n.isNull()) return dflt;
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new CheckpointException(where + "." + field + " must be an integer, found " + n);
        }
        int v = n.asInt();
        if (v < 0) throw new CheckpointException(where + "." + field + " must not be negative, found " + v);
        return v;
    }
}
