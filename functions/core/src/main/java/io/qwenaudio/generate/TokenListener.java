package io.qwenaudio.generate;

/**
 * Receives a generation as it is produced: one call per generated token, in order, with the text that token makes
 * visible. The piece may be empty (a token ending inside a UTF-8 character, text that could still turn into a
 * stop string, a stop token); the pieces of all calls concatenate to {@link Generation#text()}. Called on the
 * generating thread.
 */
@FunctionalInterface
public interface TokenListener {

    /**
     * @param tokenId the generated token id
     * @param text    the text that became final with this token (possibly empty)
     * @return {@code true} to continue, {@code false} to stop (finish reason {@code cancelled}); throwing stops
     *         the generation too, and the exception reaches the caller of {@code generate}
     */
    boolean onToken(int tokenId, String text);

    /**
     * The logits {@code [V]} the next token is about to be sampled from (before any penalty), once per token and
     * before {@link #onToken}; for checks and scoring. The array must not be changed. Does nothing by default.
     */
    default void onLogits(float[] logits) {
    }
}
