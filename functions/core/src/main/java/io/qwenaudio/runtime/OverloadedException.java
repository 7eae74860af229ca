package io.qwenaudio.runtime;

/**
 * The stage's bounded queue is full: the caller should retry later (HTTP 429/503 with Retry-After). Thrown instead
 * of letting work pile up in memory.
 */
public final class OverloadedException extends RuntimeException {
    private final int retryAfterSeconds;

    public OverloadedException(String message, int retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
