package io.qwenaudio.generate;

/**
 * A generation request the model cannot run: an option out of range or a prompt that does not fit. The message
 * is one line naming the field, the accepted range and the value found, e.g. {@code "top_p must be in (0, 1],
 * got 1.5"}; callers report it as bad input (HTTP 400, CLI exit code 2).
 */
public class InvalidGenerationException extends IllegalArgumentException {
    private final String field;

    public InvalidGenerationException(String message) {
        this(null, message);
    }

    /** @param field the request field at fault, as the HTTP API and the CLI name it (e.g. {@code max_new_tokens}) */
    public InvalidGenerationException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The request field at fault ({@code max_new_tokens}, {@code top_p}, ...), or null when no single field is. */
    public String field() {
        return field;
    }
}
