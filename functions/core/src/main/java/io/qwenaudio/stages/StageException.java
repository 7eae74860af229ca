package io.qwenaudio.stages;

/**
 * A request a stage cannot serve because of what the caller sent (unknown environment, missing field, bad
 * option). Carries the HTTP status and a short error code; the message is one line saying what was wrong and
 * what is accepted.
 */
public class StageException extends RuntimeException {
    private final int status;
    private final String code;
    private final String field;

    public StageException(int status, String code, String message) {
        this(status, code, message, null);
    }

    /** @param field the request field or parameter at fault (e.g. {@code request_id}), or null */
    public StageException(int status, String code, String message, String field) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    /** The request field or parameter at fault, or null. */
    public String field() {
        return field;
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

    /** 400 naming the field at fault. */
    public static StageException badField(String field, String message) {
        return new StageException(400, "invalid_request", message, field);
    }

    /** 400: the request has no body (or an empty one). */
    public static StageException emptyBody(String expected) {
        return new StageException(400, "empty_body", "the body is empty; send " + expected, "body");
    }
}
