package io.qwenaudio.generate;

/**
 * A generation request the model cannot run: an option out of range or a prompt that does not fit. The message
 * is one line naming the field, the accepted range and the value found, e.g. {@code "top_p must be in (0, 1],
 * got 1.5"}; callers report it as bad input (HTTP 400, CLI exit code 2).
 */
public class InvalidGenerationException extends IllegalArgumentException {
    public InvalidGenerationException(String message) {
        super(message);
    }
}
