package io.qwenaudio.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.Failures;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The REST endpoints' errors ({@code /v1/audio/describe}) as the JSON {@link Wire.Failure} every other route answers:
 * the framework's own answers (415 for a content type no method takes, 400 for JSON that does not bind, 404/405/406)
 * and anything unexpected, {@link Error}s included.
 */
public class RestErrors {

    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        return Errors.of("describe", e, null);
    }

    /** More specific than the REST layer's own Jackson mappers (which answer 400 without the Failure body). */
    @ServerExceptionMapper
    public Response mismatched(MismatchedInputException e) {
        return Errors.of("describe", e, null);
    }

    @ServerExceptionMapper
    public Response format(InvalidFormatException e) {
        return Errors.of("describe", e, null);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e, HttpServerRequest request) {
        if (e.getCause() instanceof JsonProcessingException j) return Errors.of("describe", j, null);
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        String what = request.method() + " " + request.path();
        String ct = request.getHeader(HttpHeaders.CONTENT_TYPE);
        Wire.Failure f = switch (status) {
            case 415 -> new Wire.Failure("describe", 415, "unsupported_media_type", "content-type '" + ct + "' is not accepted by "
                    + what + "; send the audio file as audio/wav, audio/flac, audio/mpeg (or application/octet-stream), or "
                    + "an EncodeRequest as application/json", null, null, "content-type");
            case 406 -> new Wire.Failure("describe", 406, "not_acceptable", what + " answers application/json only; "
                    + "accept it (Accept: application/json)", null, null, "accept");
            case 400 -> new Wire.Failure("describe", 400, "invalid_request", "the request to " + what + " is not valid: "
                    + Failures.firstLine(e.getMessage()), null, null);
            default -> status >= 500 ? Failures.describe("describe", e, null, null)
                    : new Wire.Failure("describe", status, "invalid_request", "HTTP " + status + " for " + what + ": "
                    + Failures.firstLine(e.getMessage()), null, null);
        };
        return Errors.of(f, 0);
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable t) {
        return Errors.of("describe", t, null);
    }
}
