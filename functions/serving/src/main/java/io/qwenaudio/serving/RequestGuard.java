package io.qwenaudio.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.runtime.MemoryBudget;
import io.qwenaudio.runtime.OverloadedException;
import io.qwenaudio.stages.Failures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.TreeSet;
import java.util.logging.Logger;

/**
 * The first handler of every request, before any function or API: answers what is wrong with a request at once, as
 * JSON, so no request waits, hangs or reaches a function with nothing to work on.
 *
 * <ol>
 *   <li>unknown path: 404 listing the routes; known path, other method: 405 with {@code Allow};</li>
 *   <li>{@code Content-Length} over {@code qwen-audio.http.max-body-size}: 413; zero: 400 (the body is empty);</li>
 *   <li>the body is read (non-blocking, on the event loop) within {@code qwen-audio.http.body-timeout}, else 408
 *       and the connection is closed; a body that ends empty (chunked) gets 400;</li>
 *   <li>the body's bytes are reserved in the process's memory budget until the answer (429 + Retry-After when it
 *       is full);</li>
 *   <li>{@code POST /}: the CloudEvent is checked ({@link CloudEventCheck}).</li>
 * </ol>
 * Failures of the later handlers come back to {@link FailureResponses} through this route's failure handler.
 */
@ApplicationScoped
public class RequestGuard {

    private static final Logger LOG = Logger.getLogger(RequestGuard.class.getName());
    private static final String TIMER = "qwen-audio.body-timer";

    @Inject
    ServingSetup setup;

    @Inject
    HttpRoutes routes;

    @Inject
    FailureResponses failures;

    @Inject
    ObjectMapper json;

    @Inject
    Vertx vertx;

    private CloudEventCheck events;
    private long maxBody;
    private long bodyTimeoutMs;
    private MemoryBudget memory;

    void install(@Observes Router router) {
        events = new CloudEventCheck(EventTriggers.triggers(), json);
        maxBody = setup.maxBodyBytes();
        bodyTimeoutMs = Math.max(1, setup.config().http().bodyTimeout().toMillis());
        memory = setup.memoryBudget();
        json.getFactory().setStreamReadConstraints(JsonLimits.constraints(maxBody)); // the runtime value (JsonLimits)
        // first of all, before the platform's body handler (RouteConstants.ROUTE_ORDER_BODY_HANDLER = MIN_VALUE + 1)
        // starts reading a body this handler may refuse, and whose arrival it times
        router.route().order(Integer.MIN_VALUE).handler(this::admit).failureHandler(failures::handle);
        // Vert.x wants the body handler first on its route: reading (unless the platform's handler did) and checking
        // the body is a second route
        router.route().order(-1000)
                .handler(BodyHandler.create(false).setBodyLimit(maxBody))
                .handler(this::checkBody)
                .failureHandler(failures::handle);
        for (int status : new int[] {400, 404, 405, 406, 408, 413, 415, 500}) router.errorHandler(status, failures::handle);
        LOG.info(setup.limitsSummary());
    }

    private void admit(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String path = ctx.normalizedPath();
        if (path.startsWith("/q/")) {
            ctx.next();
            return;
        }
        HttpRoutes.Route route = routes.route(path);
        String requestId = req.getHeader("ce-" + EventTypes.CORRELATION);
        String eventId = req.getHeader("ce-id");
        if (route == null) {
            failures.send(ctx, new Wire.Failure("http", 404, "not_found", "no route for " + req.method() + " " + path
                    + "; routes: " + routes.describe(), requestId, eventId), 0);
            return;
        }
        ctx.put(FailureResponses.STAGE, route.stage());
        if (req.method() == HttpMethod.OPTIONS) {
            ctx.response().setStatusCode(204).putHeader(HttpHeaders.ALLOW, allow(route)).end();
            return;
        }
        boolean head = req.method() == HttpMethod.HEAD && route.methods().contains("GET");
        if (!route.methods().contains(req.method().name()) && !head) {
            ctx.response().putHeader(HttpHeaders.ALLOW, allow(route));
            answerEarly(ctx, new Wire.Failure(route.stage(), 405, "method_not_allowed", req.method() + " is not allowed on "
                    + path + "; allowed: " + allow(route) + " (" + route.body() + ")", requestId, eventId));
            return;
        }
        if (req.method() != HttpMethod.POST) {
            ctx.next();
            return;
        }
        if ("/".equals(path)) {
            CloudEventCheck.Problem p = events.headers(req, routes.describe());
            if (p != null) {
                answerEarly(ctx, new Wire.Failure("events", p.status(), p.code(), p.message(), requestId, eventId, p.field()));
                return;
            }
            String fn = events.function(req.getHeader("ce-type"));
            if (fn != null) ctx.put(FailureResponses.STAGE, EventTriggers.stage(fn));
        }
        String len = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        boolean chunked = req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
        long n = -1;
        if (len != null) {
            try {
                n = Long.parseLong(len.trim());
            } catch (NumberFormatException e) {
                answerEarly(ctx, new Wire.Failure(stage(ctx), 400, "invalid_request", "Content-Length '" + len
                        + "' is not a number", requestId, eventId, "content-length"));
                return;
            }
        }
        if (n > maxBody) {
            answerEarly(ctx, failures.tooLarge(stage(ctx), n, requestId, eventId));
            return;
        }
        if ((n == 0 || (n < 0 && !chunked)) && !"/".equals(path)) { // an event without data: CloudEventCheck says so
            answerEarly(ctx, new Wire.Failure(stage(ctx), 400, "empty_body", "the body is empty; send " + route.body(),
                    requestId, eventId, "body"));
            return;
        }
        long timer = vertx.setTimer(bodyTimeoutMs, id -> {
            if (!ctx.response().ended() && !ctx.response().closed()) {
                answerEarly(ctx, failures.bodyTimeout(stage(ctx), requestId, eventId));
            }
        });
        ctx.put(TIMER, timer);
        ctx.addEndHandler(v -> vertx.cancelTimer(timer));
        ctx.next();
    }

    private void checkBody(RoutingContext ctx) {
        Long timer = ctx.get(TIMER);
        if (timer != null) vertx.cancelTimer(timer);
        if (ctx.response().ended() || ctx.response().closed()) return; // timed out while the body was arriving
        if (ctx.request().method() != HttpMethod.POST || ctx.normalizedPath().startsWith("/q/")) {
            ctx.next();
            return;
        }
        Buffer body = ctx.body().buffer();
        HttpRoutes.Route route = routes.route(ctx.normalizedPath());
        String requestId = ctx.request().getHeader("ce-" + EventTypes.CORRELATION);
        String eventId = ctx.request().getHeader("ce-id");
        if (body != null && body.length() > 0) {
            // the body's bytes count in the memory budget from its arrival to the answer (a stalled upload, which holds
            // only what it sent, reserves nothing and cannot starve others)
            try {
                MemoryBudget.Reservation r = memory.reserve(body.length(), "a request body of " + body.length() + " bytes");
                ctx.addEndHandler(v -> r.close());
            } catch (OverloadedException e) {
                failures.send(ctx, Failures.describe(stage(ctx), e, requestId, eventId), Failures.retryAfterSeconds(e));
                return;
            }
        }
        if ("/".equals(ctx.normalizedPath())) {
            CloudEventCheck.Problem p = events.body(ctx.request(), body);
            if (CloudEventCheck.structured(ctx.request()) && body != null) {
                String fn = events.function(events.structuredType(body));
                if (fn != null) ctx.put(FailureResponses.STAGE, EventTriggers.stage(fn));
            }
            if (p != null) {
                failures.send(ctx, new Wire.Failure(stage(ctx), p.status(), p.code(), p.message(), requestId, eventId,
                        p.field()), 0);
                return;
            }
        } else if (body == null || body.length() == 0) {
            failures.send(ctx, new Wire.Failure(stage(ctx), 400, "empty_body", "the body is empty; send "
                    + (route == null ? "a body" : route.body()), requestId, eventId, "body"), 0);
            return;
        }
        ctx.next();
    }

    /** Most bytes of an unwanted body read and dropped after an early answer, before the connection is closed. */
    static final long SWALLOW_BYTES = 64L << 20;

    /**
     * Answers before the body was read; the connection is closed after the answer, so no unread body lingers. Most
     * HTTP clients send the whole body before they read the answer, and see a broken pipe instead of it when the
     * connection closes mid-upload: for a declared body of at most {@link #SWALLOW_BYTES} the answer goes out at once,
     * the body is read and dropped (never kept) until it ends or the body timeout passes, and the connection is
     * closed then.
     */
    private void answerEarly(RoutingContext ctx, Wire.Failure f) {
        HttpServerRequest req = ctx.request();
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        long declared = declaredLength(req);
        if (declared > 0 && declared <= SWALLOW_BYTES && !req.isEnded() && f.status() != 408) {
            req.handler(b -> { });                                   // dropped
            var sent = failures.send(ctx, f, 0);                     // answered at once; closed when the body ends
            long timer = vertx.setTimer(bodyTimeoutMs, id -> req.connection().close());
            req.endHandler(v -> {
                vertx.cancelTimer(timer);
                sent.onComplete(x -> req.connection().close());
            });
            req.exceptionHandler(e -> {
                vertx.cancelTimer(timer);
                req.connection().close();
            });
            req.resume();
            return;
        }
        // larger, chunked or stalled (408) bodies: closed at once for 408, after a grace second otherwise, so a client
        // still writing reads the answer instead of a reset connection
        long graceMs = f.status() == 408 ? 0 : 1000;
        failures.send(ctx, f, 0).onComplete(v -> {
            if (graceMs == 0) req.connection().close();
            else vertx.setTimer(graceMs, t -> req.connection().close());
        });
    }

    private static long declaredLength(HttpServerRequest req) {
        String len = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (len == null) return -1;
        try {
            return Long.parseLong(len.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private String stage(RoutingContext ctx) {
        return failures.stage(ctx);
    }

    private static String allow(HttpRoutes.Route r) {
        TreeSet<String> m = new TreeSet<>(r.methods());
        if (m.contains("GET")) m.add("HEAD");
        m.add("OPTIONS");
        return String.join(", ", m);
    }
}
