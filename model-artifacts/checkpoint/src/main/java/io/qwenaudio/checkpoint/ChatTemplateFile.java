package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds a checkpoint's own chat template where Hugging Face keeps it, in the order transformers prefers:
 * {@code chat_template.jinja} (the single-file form, which wins over the inline field since transformers 4.47),
 * {@code chat_template.json} (a processor's legacy file: {@code {"chat_template": "..."}}), then
 * {@code tokenizer_config.json}'s {@code chat_template}: a string, or a list of named templates
 * ({@code [{"name": "default", "template": "..."}, ...]}) of which the one named {@code default} is used.
 */
public final class ChatTemplateFile {

    public static final String JINJA = "chat_template.jinja";
    public static final String PROCESSOR_JSON = "chat_template.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    /** A template and the file it came from. */
    public record Found(String template, String source) {
    }

    private ChatTemplateFile() {
    }

    /** The checkpoint's chat template, or empty when it has none (a base checkpoint). */
    public static Optional<Found> find(Path checkpoint) throws IOException {
        Path jinja = checkpoint.resolve(JINJA);
        if (Files.isRegularFile(jinja)) return Optional.of(new Found(nonBlank(Files.readString(jinja, StandardCharsets.UTF_8), jinja), JINJA));
        ObjectMapper json = new ObjectMapper();
        Path processor = checkpoint.resolve(PROCESSOR_JSON);
        if (Files.isRegularFile(processor)) {
            JsonNode t = json.readTree(processor.toFile()).path("chat_template");
            if (!t.isMissingNode() && !t.isNull()) return Optional.of(new Found(pick(t, processor), PROCESSOR_JSON));
        }
        Path config = checkpoint.resolve(TOKENIZER_CONFIG);
        if (Files.isRegularFile(config)) {
            JsonNode t = json.readTree(config.toFile()).path("chat_template");
            if (!t.isMissingNode() && !t.isNull()) return Optional.of(new Found(pick(t, config), TOKENIZER_CONFIG));
        }
        return Optional.empty();
    }

    /** A string template, or the one named "default" of a list of named templates. */
    private static String pick(JsonNode t, Path file) {
        if (t.isTextual()) return nonBlank(t.asText(), file);
        if (t.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode named : t) {
                String name = named.path("name").asText(null);
                names.add(name);
                if ("default".equals(name)) return nonBlank(named.path("template").asText(""), file);
            }
            throw new CheckpointException(file + ": chat_template lists templates " + names + " but none is named "
                    + "'default'; name the one to serve 'default' (or put it in " + JINJA + ")");
        }
        throw new CheckpointException(file + ": chat_template must be a string or a list of {\"name\", \"template\"} "
                + "objects, got " + t.getNodeType());
    }

    private static String nonBlank(String template, Path file) {
        if (template.isBlank()) {
            throw new CheckpointException(file + ": the chat template is empty; remove it (the ChatML fallback is then "
                    + "used) or write the template");
        }
        return template;
    }
}
