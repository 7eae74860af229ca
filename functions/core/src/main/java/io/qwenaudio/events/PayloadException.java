package io.qwenaudio.events;

/**
 * A tensor payload between stages that cannot be used: wrong dtype, shape, encoding, a bad or foreign blob
 * reference, or a body over the size limit. Maps to HTTP 400 (or 413 when {@link #tooLarge()}).
 */
public final class PayloadException extends RuntimeException {
    private final boolean tooLarge;

    public PayloadException(String message) {
        this(message, false);
    }

    public PayloadException(String message, boolean tooLarge) {
        super(message);
        this.tooLarge = tooLarge;
    }

    public boolean tooLarge() {
        return tooLarge;
    }
}
