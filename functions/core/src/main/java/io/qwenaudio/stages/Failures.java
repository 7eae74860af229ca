package io.qwenaudio.stages;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.audio.InvalidAudioException;
import io.qwenaudio.events.PayloadException;
import io.qwenaudio.events.Wire;
import io.qwenaudio.generate.InvalidGenerationException;
import io.qwenaudio.runtime.OverloadedException;

import java.util.List;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Maps any failure of a stage to what the caller sees: an HTTP status, a short error code and a one-line message
 * ({@link Wire.Failure}). Caller mistakes become 4xx with the exception's own message; overload becomes 429 with
 * a Retry-After; anything else is an internal error (500) whose details go to the log under an error id, never
 * to the caller.
 */
public final class Failures {
    private static final Logger LOG = Logger.getLogger(Failures.class.getName());

    /** Exception types (by simple class name) whose message is a caller mistake: status and code. */
    private record Known(String className, int status, String code) {
    }

    private static final List<Known> BY_NAME = List.of(
            // generation options: io.qwenaudio.generate.*; matched by name so this class does not depend on them
            new Known("ContextOverflowException", 400, "context_length_exceeded"),
            new Known("InvalidGenerationException", 400, "invalid_generation_options"),
            new Known("NonFiniteLogitsException", 422, "non_finite_logits"),
            // Jackson, when a body is not valid JSON or does not fit the expected record
            new Known("JsonParseException", 400, "malformed_json"),
            new Known("MismatchedInputException", 400, "invalid_json"),
            new Known("InvalidFormatException", 400, "invalid_json"),
            new Known("UnrecognizedPropertyException", 400, "invalid_json"),
            new Known("JsonProcessingException", 400, "invalid_json")); // anything else Jackson refuses, e.g. a number out of range

    private Failures() {
    }

    /** The failure as the caller sees it. Internal errors are logged here with their error id. */
    public static Wire.Failure describe(String stage, Throwable t, String requestId, String eventId) {
        Throwable c = cause(t);
        if (c instanceof StageException s) {
            return new Wire.Failure(stage, s.status(), s.code(), s.getMessage(), requestId, eventId, s.field());
        }
        if (c instanceof InvalidAudioException) return new Wire.Failure(stage, 422, "invalid_audio", c.getMessage(), requestId, eventId);
        if (c instanceof PayloadException p) {
            return new Wire.Failure(stage, p.tooLarge() ? 413 : 400, p.tooLarge() ? "payload_too_large" : "invalid_payload",
                    c.getMessage(), requestId, eventId);
        }
        if (c instanceof OverloadedException) return new Wire.Failure(stage, 429, "overloaded", c.getMessage(), requestId, eventId);
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            for (Known k : BY_NAME) {
                if (isA(x.getClass(), k.className())) {
                    String field = field(x);
                    String message = x instanceof JsonProcessingException j ? firstLine(j.getOriginalMessage()) : firstLine(x.getMessage());
                    if (field != null && x instanceof JsonProcessingException) message = "'" + field + "': " + message;
                    if (k.code().equals("malformed_json")) message = "the body is not valid JSON: " + message;
                    return new Wire.Failure(stage, k.status(), k.code(), message, requestId, eventId, field);
                }
            }
        }
        if (c instanceof OutOfMemoryError) {
            String id = UUID.randomUUID().toString();
            LOG.log(Level.SEVERE, "stage " + stage + " ran out of memory (error id " + id + ", request " + requestId + ")", t);
            return new Wire.Failure(stage, 503, "out_of_memory", "stage " + stage + " ran out of memory serving this "
                    + "request; retry later or send a shorter clip (error id " + id + ")", requestId, eventId);
        }
        if (c instanceof ArtifactsException) {
            String id = UUID.randomUUID().toString();
            LOG.log(Level.SEVERE, "stage " + stage + " cannot use its model artifacts (error id " + id + ")", c);
            return new Wire.Failure(stage, 503, "model_unavailable", c.getMessage() + " (error id " + id + ")", requestId, eventId);
        }
        String id = UUID.randomUUID().toString();
        LOG.log(Level.SEVERE, "internal error in stage " + stage + " (error id " + id + ", request " + requestId + ")", t);
        return new Wire.Failure(stage, 500, "internal_error", "internal error in stage " + stage + " (" + c.getClass().getSimpleName()
                + "); see the server log for error id " + id, requestId, eventId);
    }

    /** Retry-After of a 503: something this process depends on is unavailable for now. */
    static final int UNAVAILABLE_RETRY_SECONDS = 5;

    /** Seconds a client should wait before retrying, or 0 when retrying does not help. */
    public static int retryAfterSeconds(Throwable t) {
        Throwable c = cause(t);
        if (c instanceof OutOfMemoryError) return 5;
        if (c instanceof StageException s && s.status() == 503) return UNAVAILABLE_RETRY_SECONDS; // e.g. a peer unreachable
        return c instanceof OverloadedException o ? Math.max(1, o.retryAfterSeconds()) : 0;
    }

    /**
     * The request field at fault: {@code field()} of the generation and stage exceptions, else the JSON path of a
     * Jackson binding error ({@code generate.max_new_tokens}), else null.
     */
    static String field(Throwable x) {
        if (x instanceof InvalidGenerationException g) return g.field();
        if (x instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            String path = jsonPath(m);
            return path.isEmpty() ? null : path;
        }
        return null;
    }

    /** The JSON path of a Jackson binding error: {@code messages[0].content}, {@code generate.max_new_tokens}. */
    public static String jsonPath(JsonMappingException m) {
            StringBuilder b = new StringBuilder();
            for (JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) {
                    if (!b.isEmpty()) b.append('.');
                    b.append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    b.append('[').append(r.getIndex()).append(']');
                }
            }
        return b.toString();
    }

    /** The innermost exception of a known kind, else the innermost cause. */
    static Throwable cause(Throwable t) {
        Throwable last = t;
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x instanceof StageException || x instanceof InvalidAudioException || x instanceof PayloadException
                    || x instanceof OverloadedException || x instanceof ArtifactsException) {
                return x;
            }
            last = x;
        }
        return last;
    }

    private static boolean isA(Class<?> c, String simpleName) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) if (k.getSimpleName().equals(simpleName)) return true;
        return false;
    }

    /** The first line of a message (Jackson's carry the source location on the next lines). */
    public static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
