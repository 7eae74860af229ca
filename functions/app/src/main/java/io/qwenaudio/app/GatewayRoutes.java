package io.qwenaudio.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.app.gateway.WireEvent;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.ReplyAttributes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.EventTriggers;
import io.qwenaudio.serving.HttpRoutes;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.serving.StageMetrics;
import io.qwenaudio.stages.Failures;
import io.qwenaudio.stages.StageException;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.context.ManagedExecutor;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The routes that differ in gateway mode ({@code qwen-audio.mode=gateway}):
 * <ul>
 *   <li>{@code POST /embed}: the encode-only embedding, sent as {@code embedding.requested} through the stage Services;
 *   the answer is the {@code embedding.created} data (or the failure), as the one-process app's {@code /embed}.</li>
 *   <li>{@code POST /v1/events/dead-letter}: the dead-letter sink of the stage Triggers. An event a stage never took
 *   (every retry failed) becomes one {@code pipeline.failed} carrying the RequestReply's reply extension, sent to the
 *   Broker ({@code qwen-audio.gateway.broker-url}), so the caller gets one clear error instead of waiting out the
 *   timeout. Only dead letters of requests sent through the RequestReply (they carry its correlation) are turned into
 *   events; others are logged. The route is public with the gateway, but a forged correlation gets nowhere: the
 *   RequestReply accepts only replies whose correlation it signed.</li>
 *   <li>the stage functions ({@code /encode}, {@code /adapt}, {@code /generate}, {@code /hidden-states}) and the
 *   CloudEvent entry {@code POST /}: 404 naming the Service that serves them; a gateway runs no stage.</li>
 * </ul>
 */
@ApplicationScoped
public class GatewayRoutes {

    private static final Logger LOG = Logger.getLogger(GatewayRoutes.class.getName());
    static final String DEAD_LETTER = "/v1/events/dead-letter";

    @Inject
    ServingSetup setup;

    @Inject
    EventChain chain;

    @Inject
    HttpRoutes routes;

    @Inject
    StageMetrics metrics;

    @Inject
    ObjectMapper json;

    @Inject
    ManagedExecutor workers;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    void install(@Observes @Priority(2) Router router) {
        if (!setup.gatewayMode()) return;
        routes.add(DEAD_LETTER, "dead-letter", "a dead-lettered CloudEvent (binary or structured mode)", "POST");
        long limit = setup.config().http().maxBodySize().asLongValue();
        router.post(DEAD_LETTER).order(-10).handler(BodyHandler.create(false).setBodyLimit(limit)).handler(this::deadLetter);
        router.post("/embed").order(-10).handler(BodyHandler.create(false).setBodyLimit(limit)).handler(this::embed);
        router.route().order(-9).handler(this::stageRoutes);
    }

    private void stageRoutes(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        boolean event = "/".equals(path) && "POST".equals(ctx.request().method().name());
        var f = HttpRoutes.function(path);
        if (!event && (f == null || path.equals("/embed"))) {
            ctx.next();
            return;
        }
        String service = event ? "the stage Services (post CloudEvents to the Broker)"
                : "the " + EventTriggers.stage(f.getName()).replace("hidden-states", "generate") + "-function Service";
        fail(ctx.response(), new Wire.Failure(event ? "events" : EventTriggers.stage(f.getName()), 404, "not_found",
                (event ? "POST / (a CloudEvent for a stage)" : "POST " + path) + " is served by " + service + "; this gateway "
                        + "(qwen-audio.mode=gateway) serves POST /v1/chat/completions, GET /v1/models, POST /v1/audio/describe, "
                        + "POST /embed and the playground", null, null));
    }

    private void embed(RoutingContext ctx) {
        HttpServerResponse res = ctx.response();
        Wire.EmbedRequest request;
        try {
            request = json.readValue(ctx.body().buffer().getBytes(), Wire.EmbedRequest.class);
            if (request == null) throw StageException.badRequest("the body must be a JSON EmbedRequest {\"audio\": \"<base64>\", ...}");
        } catch (IOException | RuntimeException e) {
            fail(res, Failures.describe("embed", e, null, null));
            return;
        }
        String id = request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
        Wire.EmbedRequest r = new Wire.EmbedRequest(request.audio(), request.audioRef(), request.pooling(), request.normalize(),
                request.format(), request.includeHidden(), id);
        workers.submit(() -> {
            long t0 = System.nanoTime();
            try {
                CloudEvent<Object> out = chain.run(InProcessBus.event(EventTypes.EMBEDDING_REQUESTED, id, null, r));
                if (out.data() instanceof Wire.Failure f) {
                    fail(res, f);
                } else {
                    res.putHeader("content-type", "application/json").end(json.writeValueAsString(out.data()));
                    metrics.count("embed", "ok");
                }
            } catch (RuntimeException | JsonProcessingException e) {
                fail(res, Failures.describe("embed", e, id, null));
            } finally {
                metrics.time("embed", Duration.ofNanos(System.nanoTime() - t0));
            }
        });
    }

    private void fail(HttpServerResponse res, Wire.Failure f) {
        metrics.count(f.stage(), f.error());
        int retry = Errors.retryAfterSeconds(f);
        if (retry > 0) res.putHeader("Retry-After", String.valueOf(retry));
        try {
            res.setStatusCode(f.status()).putHeader("content-type", "application/json").end(json.writeValueAsString(f));
        } catch (JsonProcessingException e) {
            res.setStatusCode(500).end();
        }
    }

    // ---- dead letters ----

    private void deadLetter(RoutingContext ctx) {
        HttpServerResponse res = ctx.response();
        WireEvent dead;
        try {
            dead = WireEvent.read(ctx.request()::getHeader, ctx.request().headers().names(), ctx.body().buffer().getBytes(), json);
            if (dead == null) throw StageException.badRequest("the body is not a CloudEvent: send it in binary mode (ce-* "
                    + "headers) or structured mode (application/cloudevents+json)");
        } catch (RuntimeException e) {
            fail(res, Failures.describe("dead-letter", e, null, null));
            return;
        }
        ReplyAttributes ra = setup.replyAttributes();
        String correlation = dead.attribute(ra.correlation());
        if (correlation == null || correlation.split(":").length != 3) {
            // No caller waits for it (the event was posted to the Broker directly, not through the RequestReply), and
            // this route is reachable from outside the cluster: it is logged, not turned into an event.
            LOG.warning("dead letter " + dead.type() + " id " + dead.id() + " (request " + dead.attribute(EventTypes.CORRELATION)
                    + ", last answer " + dead.attribute("knativeerrorcode") + " from " + dead.attribute("knativeerrordest")
                    + ") carries no " + ra.correlation() + ": logged only");
            metrics.count("dead-letter", "logged");
            res.setStatusCode(202).end();
            return;
        }
        workers.submit(() -> {
            try {
                URI broker = setup.config().gateway().brokerUrl().orElseThrow(() -> new StageException(503, "not_configured",
                        "qwen-audio.gateway.broker-url (K_SINK from the SinkBinding) is not set: the failure cannot be sent"));
                Wire.Failure f = failure(dead);
                Map<String, String> ext = new TreeMap<>(EventTypes.extensions(f.requestId(), dead.attribute(EventTypes.ENVIRONMENT)));
                ext.putAll(ra.forAnswer(dead.attributes(), EventTypes.PIPELINE_FAILED));
                String id = UUID.nameUUIDFromBytes(("dead-letter|" + dead.attribute("source") + "|" + dead.id())
                        .getBytes(StandardCharsets.UTF_8)).toString();
                HttpRequest request = WireEvent.post(broker, id, EventTypes.PIPELINE_FAILED, setup.config().events().source()
                        + "/gateway", ext, json.writeValueAsBytes(f)).timeout(Duration.ofSeconds(30)).build();
                HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() / 100 != 2) {
                    throw new StageException(502, "bad_gateway", "the Broker at " + broker + " answered HTTP " + r.statusCode());
                }
                LOG.warning("dead letter " + dead.type() + " (request " + f.requestId() + ", " + f.message() + ") answered with "
                        + "pipeline.failed " + id);
                metrics.count("dead-letter", "ok");
                res.setStatusCode(202).end();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(res, new Wire.Failure("dead-letter", 503, "shutting_down", "the gateway is shutting down", null, dead.id()));
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "cannot answer dead letter " + dead.id() + ": " + e.getMessage());
                fail(res, Failures.describe("dead-letter", e, null, dead.id()));
            }
        });
    }

    /**
     * What the caller is told about an event no stage took: the stage that consumes its type, and the status its last
     * delivery attempt got ({@code knativeerrorcode}): 429 stays 429 (retry later), a timeout becomes 504, anything else
     * 503 {@code dead_letter}.
     */
    Wire.Failure failure(WireEvent dead) {
        String function = EventTriggers.triggers().get(dead.type());
        String stage = function == null ? "events" : EventTriggers.stage(function);
        String code = dead.attribute("knativeerrorcode");
        String where = dead.attribute("knativeerrordest");
        String requestId = dead.attribute(EventTypes.CORRELATION) != null ? dead.attribute(EventTypes.CORRELATION) : dead.id();
        String last = code == null || !code.matches("[1-9][0-9]{2}") ? "no answer: the stage was not reachable"
                : "last answer HTTP " + code;
        String what = "the " + stage + " stage did not take the " + dead.type() + " event after every redelivery (" + last
                + (where == null ? "" : " from " + where) + ")";
        return switch (code == null ? "" : code) {
            case "429" -> new Wire.Failure(stage, 429, "overloaded", what + ": the stage is overloaded; retry later", requestId,
                    dead.id());
            case "408", "504" -> new Wire.Failure(stage, 504, "timeout", what + ": it did not answer in time", requestId, dead.id());
            default -> new Wire.Failure(stage, 503, "dead_letter", what + "; the request was not served, retry later", requestId,
                    dead.id());
        };
    }
}
