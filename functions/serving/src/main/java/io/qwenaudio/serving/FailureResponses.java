package io.qwenaudio.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.funqy.runtime.FunctionInvoker;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.Failures;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes every error answer of the HTTP layer as the JSON {@link Wire.Failure} the READMEs document: failures of a
 * route (exceptions, {@link Error}s such as {@code OutOfMemoryError} included), and the bare status codes the
 * frameworks fail with (400 for a body Funqy cannot bind, 404, 405, 406, 413, 415), each with a message naming the
 * problem: for a body that does not bind, the Jackson error with the field's path.
 */
@ApplicationScoped
public class FailureResponses {

    /** Routing-context key of the stage name a request's errors carry. */
    public static final String STAGE = "qwen-audio.stage";

    @Inject
    ObjectMapper json;

    @Inject
    HttpRoutes routes;

    @Inject
    ServingSetup setup;

    /** Failure handler: the route failed with an exception or a status code. */
    public void handle(RoutingContext ctx) {
        if (ctx.response().ended() || ctx.response().closed()) return;
        Throwable t = ctx.failure();
        String requestId = ctx.request().getHeader("ce-" + EventTypes.CORRELATION);
        String eventId = ctx.request().getHeader("ce-id");
        String stage = stage(ctx);
        if (t != null && !(t instanceof HttpException)) {
            send(ctx, Failures.describe(stage, t, requestId, eventId), Failures.retryAfterSeconds(t));
            return;
        }
        int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        send(ctx, statusOnly(ctx, status, stage, requestId, eventId), 0);
    }

    private Wire.Failure statusOnly(RoutingContext ctx, int status, String stage, String requestId, String eventId) {
        String path = ctx.normalizedPath();
        String method = ctx.request().method().name();
        return switch (status) {
            case 400 -> bindingFailure(ctx, stage, requestId, eventId);
            case 404 -> new Wire.Failure(stage, 404, "not_found", "no route for " + method + " " + path + "; routes: "
                    + routes.describe(), requestId, eventId);
            case 405 -> {
                HttpRoutes.Route r = routes.route(path);
                if (r != null) ctx.response().putHeader(HttpHeaders.ALLOW, String.join(", ", new TreeSet<>(r.methods())));
                yield new Wire.Failure(stage, 405, "method_not_allowed", method + " is not allowed on " + path
                        + (r == null ? "" : "; allowed: " + String.join(", ", new TreeSet<>(r.methods()))), requestId, eventId);
            }
            case 406, 415 -> new Wire.Failure(stage, 415, "unsupported_media_type", "content-type '"
                    + ctx.request().getHeader(HttpHeaders.CONTENT_TYPE) + "' is not accepted by " + method + " " + path
                    + expected(path), requestId, eventId, "content-type");
            case 413 -> tooLarge(stage, -1, requestId, eventId);
            case 408 -> bodyTimeout(stage, requestId, eventId);
            default -> new Wire.Failure(stage, status, status < 500 ? "invalid_request" : "internal_error",
                    "HTTP " + status + " for " + method + " " + path, requestId, eventId);
        };
    }

    /** 413 naming the limit and its key. */
    public Wire.Failure tooLarge(String stage, long bytes, String requestId, String eventId) {
        long max = setup.maxBodyBytes();
        return new Wire.Failure(stage, 413, "payload_too_large", "request body " + (bytes >= 0 ? "of " + bytes + " bytes " : "")
                + "is over the limit of " + max + " bytes (qwen-audio.http.max-body-size); send a shorter clip or raise the "
                + "limit", requestId, eventId, "body");
    }

    /** 408 naming the timeout and its key. */
    public Wire.Failure bodyTimeout(String stage, String requestId, String eventId) {
        return new Wire.Failure(stage, 408, "body_timeout", "the request body did not arrive within "
                + setup.config().http().bodyTimeout().toSeconds() + " s (qwen-audio.http.body-timeout); send the whole body "
                + "at once", requestId, eventId, "body");
    }

    /**
     * Funqy answers a body it cannot bind with a bare 400; bind it again here to say why (the Jackson message and the
     * field's path). Only on this error path, so good requests are parsed once.
     */
    private Wire.Failure bindingFailure(RoutingContext ctx, String stage, String requestId, String eventId) {
        String path = ctx.normalizedPath();
        Buffer body = ctx.body() == null ? null : ctx.body().buffer();
        String why = "the body is not valid JSON for " + path + expected(path);
        if (body != null && body.length() > 0) {
            try {
                JsonNode tree = json.readTree(body.getBytes());
                FunctionInvoker f = HttpRoutes.function(path);
                if (f == null && "/".equals(path)) {
                    String fn = CloudEventCheck.structured(ctx.request())
                            ? EventTriggers.triggers().get(tree.path("type").asText(null))
                            : EventTriggers.triggers().get(ctx.request().getHeader("ce-type"));
                    f = fn == null ? null : HttpRoutes.function("/" + fn);
                    if (CloudEventCheck.structured(ctx.request())) tree = tree.get("data");
                }
                if (f != null && f.getInputType() != null) {
                    Type in = f.getInputType();
                    if (in instanceof ParameterizedType pt) in = pt.getActualTypeArguments()[0]; // CloudEvent<T>
                    json.readerFor(json.constructType(in)).readValue(tree);
                }
            } catch (Exception e) {
                Wire.Failure f = Failures.describe(stage, e, requestId, eventId);
                if (f.status() == 400) return f;
                why = Failures.firstLine(e.getMessage());
            }
        } else {
            return new Wire.Failure(stage, 400, "empty_body", "the body is empty; send " + expected(path).replace("; send ", ""),
                    requestId, eventId, "body");
        }
        return new Wire.Failure(stage, 400, "invalid_json", why, requestId, eventId);
    }

    private String expected(String path) {
        HttpRoutes.Route r = routes.route(path);
        return r == null ? "" : "; send " + r.body();
    }

    /** The stage a request's errors name: the function or API its path serves ({@code http} for unknown paths). */
    public String stage(RoutingContext ctx) {
        String s = ctx.get(STAGE);
        if (s != null) return s;
        String p = ctx.normalizedPath();
        if ("/".equals(p)) {
            String fn = EventTriggers.triggers().get(ctx.request().getHeader("ce-type"));
            return fn == null ? "events" : EventTriggers.stage(fn);
        }
        HttpRoutes.Route r = routes.route(p);
        return r == null ? "http" : r.stage();
    }

    /** OpenAI's error shape of a failure: {@code {"error": {"message", "type", "param", "code"}}}. */
    public static Map<String, Object> openAi(Wire.Failure f) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", f.message());
        e.put("type", f.status() == 429 ? "rate_limit_error" : f.status() >= 500 ? "server_error" : "invalid_request_error");
        e.put("param", f.param());
        e.put("code", f.error());
        return Map.of("error", e);
    }

    /** Sends {@code f} as the JSON answer, with Retry-After when retrying helps; completes when it is written. */
    public Future<Void> send(RoutingContext ctx, Wire.Failure f, int retryAfterSeconds) {
        if (ctx.response().ended() || ctx.response().closed()) return Future.succeededFuture();
        String body;
        try {
            HttpRoutes.Route route = routes.route(ctx.normalizedPath());
            body = json.writeValueAsString(route != null && route.openAiErrors() ? openAi(f) : f);
        } catch (JsonProcessingException e) {
            body = "{\"status\":" + f.status() + ",\"error\":\"" + f.error() + "\"}";
        }
        var r = ctx.response().setStatusCode(f.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (retryAfterSeconds > 0) r.putHeader("Retry-After", String.valueOf(retryAfterSeconds));
        return r.end(body);
    }
}
