package io.qwenaudio.app;

import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.Failures;
import jakarta.ws.rs.core.Response;

/** HTTP answers for failures of the app's own endpoints. */
final class Errors {
    private Errors() {
    }

    /** A {@link Wire.Failure} as the HTTP response, with Retry-After when retrying helps. */
    static Response of(Wire.Failure f, int retryAfterSeconds) {
        Response.ResponseBuilder b = Response.status(f.status()).entity(f).type("application/json");
        if (retryAfterSeconds > 0) b.header("Retry-After", retryAfterSeconds);
        return b.build();
    }

    /**
     * A failure the chain answered with ({@code pipeline.failed}): Retry-After for the statuses where a retry helps
     * (429 overloaded, 503 unavailable).
     */
    static Response of(Wire.Failure f) {
        return of(f, retryAfterSeconds(f));
    }

    /**
     * Retry-After of a failure from the chain, which carries no delay of its own: 5 s where a retry helps (429
     * overloaded, 503 unavailable), else 0 (none).
     */
    static int retryAfterSeconds(Wire.Failure f) {
        return f.status() == 429 || f.status() == 503 ? 5 : 0;
    }

    static Response of(String stage, Throwable t, String requestId) {
        return of(Failures.describe(stage, t, requestId, null), Failures.retryAfterSeconds(t));
    }
}
