package io.qwenaudio.converter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.CheckpointException;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads the special token ids Qwen2-Audio needs from the checkpoint's tokenizer files ({@code tokenizer.json}
 * {@code added_tokens}, else {@code tokenizer_config.json} {@code added_tokens_decoder}) and checks them against
 * {@code config.json}'s {@code audio_token_index}.
 */
final class SpecialTokenIds {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SpecialTokenIds() {
    }

    static Manifest.SpecialTokens read(Path checkpoint, Qwen2AudioConfig cfg, JsonNode generation) throws IOException {
        Map<String, Integer> ids = new HashMap<>();
        Path tj = checkpoint.resolve("tokenizer.json");
        Path tc = checkpoint.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tj)) {
            for (JsonNode t : JSON.readTree(tj.toFile()).path("added_tokens")) {
                ids.put(t.path("content").asText(), t.path("id").asInt());
            }
        }
        if (ids.isEmpty() && Files.isRegularFile(tc)) {
            JsonNode dec = JSON.readTree(tc.toFile()).path("added_tokens_decoder");
            for (Iterator<Map.Entry<String, JsonNode>> it = dec.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                ids.put(e.getValue().path("content").asText(), Integer.parseInt(e.getKey()));
            }
        }
        int audio = need(ids, "<|AUDIO|>", checkpoint);
        if (audio != cfg.audioTokenIndex()) {
            throw new CheckpointException("config.json audio_token_index is " + cfg.audioTokenIndex()
                    + " but the tokenizer maps <|AUDIO|> to " + audio + "; the tokenizer files do not belong to this model");
        }
        int imEnd = need(ids, "<|im_end|>", checkpoint);
        int eot = need(ids, "<|endoftext|>", checkpoint);
        List<Integer> eos = new ArrayList<>();
        JsonNode e = generation == null ? null : generation.get("eos_token_id");
        if (e != null && e.isArray()) e.forEach(n -> eos.add(n.asInt()));
        else if (e != null && e.isInt()) eos.add(e.asInt());
        for (int id : new int[] {imEnd, eot}) if (!eos.contains(id)) eos.add(id);
        return new Manifest.SpecialTokens(audio, need(ids, "<|audio_bos|>", checkpoint), need(ids, "<|audio_eos|>", checkpoint),
                need(ids, "<|im_start|>", checkpoint), imEnd, eot, eos);
    }

    private static int need(Map<String, Integer> ids, String token, Path dir) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new CheckpointException("the tokenizer files in " + dir + " do not define the special token " + token
                    + "; use the Qwen2-Audio tokenizer files");
        }
        return id;
    }
}
