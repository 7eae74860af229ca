package io.qwenaudio.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The chat template of an artifacts directory: the checkpoint's own (copied at conversion), else ChatML. */
public final class ChatTemplates {

    /** Special-token names transformers passes to templates (from {@code tokenizer_config.json}). */
    private static final List<String> TOKEN_NAMES = List.of("bos_token", "eos_token", "unk_token", "pad_token",
            "sep_token", "cls_token", "mask_token");

    private ChatTemplates() {
    }

    /**
     * Loads {@code manifest.chatTemplate()} from {@code dir} with the special tokens of the copied
     * {@code tokenizer_config.json}; {@link ChatTemplate#chatMl()} when the checkpoint had no template.
     *
     * @throws ArtifactsException when the file cannot be read or Jinjava cannot render it
     */
    public static ChatTemplate forArtifacts(Path dir, Manifest manifest) {
        if (manifest.chatTemplate() == null) return ChatTemplate.chatMl();
        Path f = dir.resolve(manifest.chatTemplate());
        try {
            return new JinjaChatTemplate(Files.readString(f, StandardCharsets.UTF_8), specialTokens(dir));
        } catch (IOException e) {
            throw new ArtifactsException("cannot read the chat template " + f + ": " + e.getMessage()
                    + "; convert the checkpoint again", e);
        } catch (IllegalArgumentException e) {
            throw new ArtifactsException("the chat template " + f + " cannot be used: " + e.getMessage()
                    + "; fix the template in the checkpoint (chat_template.jinja or tokenizer_config.json) and convert again", e);
        }
    }

    /** {@code bos_token}, {@code eos_token}, ... of {@code tokenizer_config.json} (strings or {"content": ...}). */
    static Map<String, String> specialTokens(Path dir) throws IOException {
        Map<String, String> out = new HashMap<>();
        Path cfg = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(cfg)) return out;
        JsonNode root = new ObjectMapper().readTree(cfg.toFile());
        for (String name : TOKEN_NAMES) {
            JsonNode v = root.path(name);
            if (v.isTextual()) out.put(name, v.asText());
            else if (v.path("content").isTextual()) out.put(name, v.path("content").asText());
        }
        return out;
    }
}
