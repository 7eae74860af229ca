package io.qwenaudio.chain;

import com.sun.net.httpserver.HttpServer;
import io.qwenaudio.events.EventTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test broker on its own, against the real manifests and a scripted HTTP subscriber standing in for every
 * stage: which Triggers take which event types, retries with backoff and Retry-After, dead letters, replies.
 */
class LocalBrokerTest {

    private static final KnativeRoutes ROUTES = KnativeRoutes.of(KnativeManifests.read(
            Path.of(System.getProperty("chain.knative.dir", "../../infra/knative/base"))).resources);

    private HttpServer server;
    private final List<Integer> script = Collections.synchronizedList(new ArrayList<>());
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> receivedAt = Collections.synchronizedList(new ArrayList<>());
    private LocalBroker broker;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger n = new AtomicInteger();
        server.createContext("/", x -> {
            String type = x.getRequestHeaders().getFirst("ce-type");
            received.add(type);
            receivedAt.add(System.nanoTime());
            x.getRequestBody().readAllBytes();
            int i = n.getAndIncrement();
            int status = i < script.size() ? script.get(i) : 200;
            if (status == 429) x.getResponseHeaders().add("Retry-After", "1");
            if (status == 200) { // reply with the next type of the chain
                String next = switch (type) {
                    case EventTypes.AUDIO_RECEIVED -> EventTypes.AUDIO_ENCODED;
                    case EventTypes.AUDIO_ENCODED -> EventTypes.AUDIO_ADAPTED;
                    case EventTypes.AUDIO_ADAPTED -> EventTypes.TEXT_GENERATED;
                    default -> EventTypes.EMBEDDING_CREATED;
                };
                x.getResponseHeaders().add("ce-specversion", "1.0");
                x.getResponseHeaders().add("ce-id", "reply-" + i);
                x.getResponseHeaders().add("ce-type", next);
                x.getResponseHeaders().add("ce-source", "scripted");
                x.getResponseHeaders().add("ce-correlationid", x.getRequestHeaders().getFirst("ce-correlationid"));
                byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(200, body.length);
                x.getResponseBody().write(body);
            } else {
                x.sendResponseHeaders(status, -1);
            }
            x.close();
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
        broker = new LocalBroker(ROUTES, Map.of("encode-function", uri, "adapt-function", uri, "generate-function", uri),
                "pipeline-results", 0.01);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static Event event(String type) {
        return Event.create(type, "test", "{}".getBytes(StandardCharsets.UTF_8), Map.of("correlationid", "r1"));
    }

    @Test
    void audioGoesEncodeAdaptGenerateThenToTheResults() {
        LocalBroker.Trace t = broker.publish(event(EventTypes.AUDIO_RECEIVED));
        assertEquals(List.of("encode", "adapt", "generate"), t.hops().stream().map(LocalBroker.Hop::trigger).toList());
        assertEquals(List.of(EventTypes.AUDIO_RECEIVED, EventTypes.AUDIO_ENCODED, EventTypes.AUDIO_ADAPTED), received);
        assertEquals(1, t.results().size());
        assertEquals(EventTypes.TEXT_GENERATED, t.results().get(0).type());
    }

    @Test
    void terminalAndUnknownTypesAreNotSentToAnyStage() {
        assertEquals(List.of("results-text"), ROUTES.matching(event(EventTypes.TEXT_GENERATED)).stream()
                .map(KnativeRoutes.Route::trigger).toList());
        assertEquals(List.of("pipeline-failed"), ROUTES.matching(event(EventTypes.PIPELINE_FAILED)).stream()
                .map(KnativeRoutes.Route::trigger).toList());
        assertTrue(ROUTES.matching(event("io.qwenaudio.something.else")).isEmpty());
        assertEquals("qwen-audio", ROUTES.broker);
    }

    @Test
    void overloadAndServerErrorsAreRetriedWithBackoffAndRetryAfter() {
        script.addAll(List.of(429, 503)); // then 200
        LocalBroker.Trace t = broker.publish(event(EventTypes.EMBEDDING_REQUESTED));
        LocalBroker.Hop hop = t.hops().get(0);
        assertEquals(List.of(429, 503, 200), hop.attempts().stream().map(LocalBroker.Attempt::status).toList());
        assertFalse(hop.deadLettered());
        assertEquals(1, hop.attempts().get(0).retryAfterSeconds());
        // Retry-After 1 s x 0.01 = 10 ms at least before the second attempt
        assertTrue(receivedAt.get(1) - receivedAt.get(0) >= 10_000_000L, "waited for Retry-After");
        assertEquals(EventTypes.EMBEDDING_CREATED, t.results().get(0).type());
    }

    @Test
    void exhaustedRetriesGoToTheDeadLetterSink() {
        script.addAll(List.of(500, 500, 500, 500, 500));
        LocalBroker.Trace t = broker.publish(event(EventTypes.AUDIO_RECEIVED));
        LocalBroker.Hop hop = t.hops().get(0);
        assertEquals(4, hop.attempts().size(), "the encode Trigger's 3 retries: " + hop.attempts());
        assertTrue(hop.deadLettered());
        assertNull(hop.reply());
        Event dead = t.results().get(0);
        assertEquals(EventTypes.AUDIO_RECEIVED, dead.type());
        assertEquals("500", dead.attribute("knativeerrorcode"));
    }

    @Test
    void aClientErrorIsDeadLetteredWithoutRetries() {
        script.add(400);
        LocalBroker.Trace t = broker.publish(event(EventTypes.AUDIO_RECEIVED));
        assertEquals(1, t.hops().get(0).attempts().size());
        assertEquals("400", t.results().get(0).attribute("knativeerrorcode"));
    }

    @Test
    void exponentialBackoffFollowsTheBrokerClass() {
        KnativeRoutes.Delivery d = ROUTES.routes.stream().filter(r -> r.trigger().equals("adapt")).findFirst()
                .orElseThrow().delivery();
        assertEquals(3, d.retry());
        assertEquals(1000, d.backoffDelay().toMillis());
        // the base Broker is of class Kafka: its dispatcher waits delay * 2^n before retry n
        assertTrue(d.kafkaBackoff());
        assertEquals(List.of(2000L, 4000L, 8000L), List.of(d.backoff(1).toMillis(), d.backoff(2).toMillis(),
                d.backoff(3).toMillis()));
        assertEquals(14_000, d.window().toMillis());
        KnativeRoutes.Delivery channel = new KnativeRoutes.Delivery(3, "exponential", d.backoffDelay(), null, null, null, false);
        assertEquals(List.of(1000L, 2000L, 4000L), List.of(channel.backoff(1).toMillis(), channel.backoff(2).toMillis(),
                channel.backoff(3).toMillis()));
    }
}
