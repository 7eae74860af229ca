package io.qwenaudio.generate;

/**
 * The prompt plus the tokens to generate do not fit in the model's context window ({@code max_position_embeddings}).
 * Carries both numbers so a caller can shorten the audio or the prompt, or ask for fewer new tokens.
 */
public final class ContextOverflowException extends InvalidGenerationException {

    private final long requested;
    private final int limit;

    public ContextOverflowException(int promptTokens, int maxNewTokens, int limit) {
        super("max_new_tokens", "prompt of " + promptTokens + " tokens + max_new_tokens " + maxNewTokens + " = " + ((long) promptTokens + maxNewTokens)
                + " positions exceeds the model's context of " + limit + " positions (at most "
                + Math.max(0, limit - promptTokens) + " new tokens fit after this prompt); shorten the audio or the "
                + "prompt, or lower max_new_tokens");
        this.requested = (long) promptTokens + maxNewTokens;
        this.limit = limit;
    }

    /**
     * Something other than the prompt + max_new_tokens does not fit, e.g. {@code what} = "the audio takes 9000
     * positions".
     */
    public ContextOverflowException(String what, long positions, int limit) {
        super(what + ", more than the model's context of " + limit + " positions; shorten the audio or the prompt");
        this.requested = positions;
        this.limit = limit;
    }

    /** A request field that alone does not fit the context, e.g. {@code max_new_tokens} past it. */
    public ContextOverflowException(String field, String message, long requested, int limit) {
        super(field, message);
        this.requested = requested;
        this.limit = limit;
    }

    /** Prompt tokens + max_new_tokens. */
    public long requested() {
        return requested;
    }

    /** The model's context size in positions. */
    public int limit() {
        return limit;
    }
}
