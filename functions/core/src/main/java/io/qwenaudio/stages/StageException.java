package io.qwenaudio.stages;

/**
 * A request a stage cannot serve because of what the caller sent (unknown environment, missing field, bad
 * option). Carries the HTTP status and a short error code; the message is one line saying what was wrong and
 * what is accepted.
 */
public class StageException extends RuntimeException {
    private final int status;
    private final String code;

    public StageException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** 400: the request is missing something or has a value outside the accepted set. */
    public static StageException badRequest(String message) {
        return new StageException(400, "invalid_request", message);
    }
}
