package io.qwenaudio.generate;

/**
 * The decoder's logits hold NaN or +Infinity (or are -Infinity everywhere), so no next token can be chosen. The
 * message names the first bad vocabulary id; callers report it as unprocessable input (HTTP 422, CLI exit code 2),
 * since finite weights only produce it from input hidden states outside the model's range.
 */
public final class NonFiniteLogitsException extends RuntimeException {
    public NonFiniteLogitsException(String message) {
        super(message);
    }
}
