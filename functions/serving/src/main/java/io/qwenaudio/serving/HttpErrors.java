package io.qwenaudio.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.Failures;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;

import java.util.Map;
import java.util.TreeMap;

/**
 * Every error a caller can get is a JSON {@link Wire.Failure} with a 4xx/5xx status, never a stack trace:
 *
 * <ul>
 *   <li>bodies over {@code qwen-audio.http.max-body-size}: 413;</li>
 *   <li>a POST to {@code /} that is not a binary-mode CloudEvent with id, type and source, or whose type no
 *       function of this process consumes: 400 listing what is accepted;</li>
 *   <li>exceptions of a function: mapped by {@link Failures} (400 / 413 / 422, 429 with Retry-After, 500/503).</li>
 * </ul>
 */
@ApplicationScoped
public class HttpErrors {

    @Inject
    ServingConfig config;

    @Inject
    ObjectMapper json;

    /** ce-type -> function name, from {@code quarkus.funqy.knative-events.mapping.<function>.trigger}. */
    private Map<String, String> triggers;

    void install(@Observes Router router) {
        triggers = triggers();
        router.route().order(-1000).handler(this::guard).failureHandler(this::failure);
    }

    /** The event types this process consumes, and which function each goes to. */
    public static Map<String, String> triggers() {
        Map<String, String> t = new TreeMap<>();
        String prefix = "quarkus.funqy.knative-events.mapping.";
        for (String name : ConfigProvider.getConfig().getPropertyNames()) {
            if (name.startsWith(prefix) && name.endsWith(".trigger")) {
                String fn = name.substring(prefix.length(), name.length() - ".trigger".length());
                ConfigProvider.getConfig().getOptionalValue(name, String.class).ifPresent(type -> t.put(type, fn));
            }
        }
        return t;
    }

    private void guard(RoutingContext ctx) {
        String len = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        long max = config.http().maxBodySize().asLongValue();
        if (len != null) {
            long n;
            try {
                n = Long.parseLong(len.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n > max) {
                send(ctx, new Wire.Failure(stage(ctx), 413, "payload_too_large", "request body of " + n + " bytes is over the "
                        + "limit of " + max + " bytes (qwen-audio.http.max-body-size); send a shorter clip or raise the limit",
                        null, null), 0);
                return;
            }
        }
        if (ctx.request().method() == HttpMethod.POST && "/".equals(ctx.normalizedPath())) {
            String problem = cloudEventProblem(ctx);
            if (problem != null) {
                send(ctx, new Wire.Failure("events", 400, "invalid_cloudevent", problem, ctx.request().getHeader("ce-"
                        + EventTypes.CORRELATION), ctx.request().getHeader("ce-id")), 0);
                return;
            }
        }
        ctx.next();
    }

    private String cloudEventProblem(RoutingContext ctx) {
        String ct = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        if (ct != null && ct.startsWith("application/cloudevents")) return null; // structured mode: Funqy parses it
        if (ctx.request().getHeader("ce-specversion") == null) {
            return "POST / takes a CloudEvent (binary mode: ce-specversion, ce-id, ce-type, ce-source headers and a JSON "
                    + "body); for plain JSON call a function path instead: " + paths();
        }
        for (String h : new String[] {"ce-id", "ce-type", "ce-source"}) {
            String v = ctx.request().getHeader(h);
            if (v == null || v.isBlank()) return "CloudEvent header " + h + " is missing; it is required";
        }
        String type = ctx.request().getHeader("ce-type");
        if (!triggers.containsKey(type)) {
            return "no function here consumes CloudEvent type '" + type + "'; accepted: " + String.join(", ", triggers.keySet());
        }
        return null;
    }

    private String paths() {
        return String.join(", ", triggers.values().stream().map(f -> "/" + f.replaceAll("-event$", "")).sorted().toList());
    }

    private void failure(RoutingContext ctx) {
        if (ctx.response().ended()) return;
        Throwable t = ctx.failure();
        Wire.Failure f;
        int retryAfter = 0;
        String requestId = ctx.request().getHeader("ce-" + EventTypes.CORRELATION);
        String eventId = ctx.request().getHeader("ce-id");
        if (t == null) {
            int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
            String code = status == 413 ? "payload_too_large" : status == 404 ? "not_found" : status < 500 ? "invalid_request" : "internal_error";
            String msg = status == 413 ? "request body is over the limit (qwen-audio.http.max-body-size)"
                    : status == 400 ? "the body is not valid JSON for " + ctx.normalizedPath() + "; send a JSON object"
                    : "HTTP " + status + " for " + ctx.request().method() + " " + ctx.normalizedPath();
            f = new Wire.Failure(stage(ctx), status, code, msg, requestId, eventId);
        } else {
            f = Failures.describe(stage(ctx), t, requestId, eventId);
            retryAfter = Failures.retryAfterSeconds(t);
        }
        send(ctx, f, retryAfter);
    }

    private String stage(RoutingContext ctx) {
        String p = ctx.normalizedPath();
        if ("/".equals(p)) {
            String fn = triggers == null ? null : triggers.get(ctx.request().getHeader("ce-type"));
            return fn == null ? "events" : fn.replaceAll("-event$", "");
        }
        String s = p.startsWith("/") ? p.substring(1) : p;
        int slash = s.indexOf('/');
        return slash < 0 ? s : s.substring(0, slash);
    }

    private void send(RoutingContext ctx, Wire.Failure f, int retryAfterSeconds) {
        String body;
        try {
            body = json.writeValueAsString(f);
        } catch (JsonProcessingException e) {
            body = "{\"status\":" + f.status() + ",\"error\":\"" + f.error() + "\"}";
        }
        var r = ctx.response().setStatusCode(f.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (retryAfterSeconds > 0) r.putHeader("Retry-After", String.valueOf(retryAfterSeconds));
        r.end(body);
    }
}
