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

    static Response of(String stage, Throwable t, String requestId) {
        return of(Failures.describe(stage, t, requestId, null), Failures.retryAfterSeconds(t));
    }
}
