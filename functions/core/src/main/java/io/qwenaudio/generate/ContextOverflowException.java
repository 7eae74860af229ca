package io.qwenaudio.generate;

/**
 * The prompt plus the tokens to generate do not fit in the model's context window ({@code max_position_embeddings}).
 * Carries both numbers so a caller can shorten the audio or the prompt, or ask for fewer new tokens.
 */
public final class ContextOverflowException extends InvalidGenerationException {

    private final int requested;
    private final int limit;

    public ContextOverflowException(int promptTokens, int maxNewTokens, int limit) {
        super("prompt of " + promptTokens + " tokens + max_new_tokens " + maxNewTokens + " = " + (promptTokens + maxNewTokens)
                + " positions exceeds the model's context of " + limit + " positions; shorten the audio or the prompt, "
                + "or lower max_new_tokens");
        this.requested = promptTokens + maxNewTokens;
        this.limit = limit;
    }

    /** Prompt tokens + max_new_tokens. */
    public int requested() {
        return requested;
    }

    /** The model's context size in positions. */
    public int limit() {
        return limit;
    }
}
