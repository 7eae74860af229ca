package io.qwenaudio.chain;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * A broker for local processes that follows the Knative Broker's HTTP contract: every event goes to each
 * subscriber whose Trigger it matches, as a binary-mode CloudEvent POSTed to the Service; an event in the
 * response goes back into the broker. Failed deliveries (connection errors, 408, 429, 5xx) are retried with the
 * Trigger's retry count and backoff (times {@code backoffScale}; a longer Retry-After is waited for instead), each
 * attempt bounded by the Trigger's {@code timeout} (times {@code timeoutScale}; a timed-out attempt counts as a
 * failed one, as in Knative's dispatcher);
 * when they run out, or on another error status, the event goes to the Trigger's dead-letter sink with the
 * {@code knativeerrorcode} / {@code knativeerrordest} extensions. Events for the result Service are collected in {@link #results()} instead of being POSTed.
 */
final class LocalBroker {

    /**
     * One HTTP attempt: status (-1 = no response), what went wrong (null if nothing), the answer's Retry-After in
     * seconds (-1 if none).
     */
    record Attempt(int status, String error, long retryAfterSeconds, long millis) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** One delivery of an event to a subscriber, with every attempt it took. */
    record Hop(String trigger, String service, Event in, Event reply, List<Attempt> attempts, boolean deadLettered) {
        /** Milliseconds of the attempt that succeeded (or of the last one). */
        long millis() {
            return attempts.get(attempts.size() - 1).millis();
        }
    }

    /** What one published event led to: the deliveries in order and the events that reached the result sink. */
    record Trace(List<Hop> hops, List<Event> results, long millis) {
    }

    /** Called before each delivery (after the broker chose the Trigger), e.g. to break the subscriber. */
    @FunctionalInterface
    interface BeforeDelivery {
        void accept(KnativeRoutes.Route route, Event event);
    }

    private static final int MAX_EVENTS = 64;

    private final KnativeRoutes routes;
    private final Map<String, URI> services;
    private final String resultService;
    private final double backoffScale;
    private final double timeoutScale;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Event> results = Collections.synchronizedList(new ArrayList<>());

    /**
     * @param services      Knative Service name -> where its process listens
     * @param resultService the Service that collects terminal events and dead letters (not a process here)
     * @param backoffScale  factor on every backoff delay of the manifests
     */
    LocalBroker(KnativeRoutes routes, Map<String, URI> services, String resultService, double backoffScale) {
        this(routes, services, resultService, backoffScale, 1.0);
    }

    /**
     * @param timeoutScale factor on every Trigger's per-attempt {@code delivery.timeout} (the manifests' minutes
     *                     made seconds in tests of a stage that does not answer)
     */
    LocalBroker(KnativeRoutes routes, Map<String, URI> services, String resultService, double backoffScale,
                double timeoutScale) {
        this.timeoutScale = timeoutScale;
        this.routes = routes;
        this.services = Map.copyOf(services);
        this.resultService = resultService;
        this.backoffScale = backoffScale;
        for (KnativeRoutes.Route r : routes.routes) {
            if (!r.service().equals(resultService) && !services.containsKey(r.service())) {
                throw new IllegalStateException("Trigger " + r.trigger() + " sends to Service " + r.service()
                        + ", which has no local process " + services.keySet());
            }
        }
    }

    /** Every event the result Service received so far. */
    List<Event> results() {
        synchronized (results) {
            return List.copyOf(results);
        }
    }

    Trace publish(Event event) {
        return publish(event, (r, e) -> {
        });
    }

    /** Routes {@code event} and every reply it leads to until no Trigger takes the events any more. */
    Trace publish(Event event, BeforeDelivery hook) {
        long t0 = System.nanoTime();
        List<Hop> hops = new ArrayList<>();
        List<Event> reachedSink = new ArrayList<>();
        Deque<Event> queue = new ArrayDeque<>(List.of(event));
        int n = 0;
        while (!queue.isEmpty()) {
            if (++n > MAX_EVENTS) throw new IllegalStateException("more than " + MAX_EVENTS + " events from " + event + ": a routing loop?");
            Event e = queue.poll();
            for (KnativeRoutes.Route r : routes.matching(e)) {
                if (r.service().equals(resultService)) {
                    results.add(e);
                    reachedSink.add(e);
                    continue;
                }
                hook.accept(r, e);
                Hop hop = deliver(r, e);
                hops.add(hop);
                if (hop.deadLettered()) {
                    Event dead = hop.in().with("knativeerrordest", services.get(r.service()).toString())
                            .with("knativeerrorcode", Integer.toString(hop.attempts().get(hop.attempts().size() - 1).status()));
                    if (resultService.equals(r.delivery().deadLetterService())) {
                        results.add(dead);
                        reachedSink.add(dead);
                    }
                } else if (hop.reply() != null) {
                    queue.add(hop.reply());
                }
            }
        }
        return new Trace(hops, reachedSink, (System.nanoTime() - t0) / 1_000_000);
    }

    /** One delivery with the Trigger's retries; never throws for a failing subscriber. */
    Hop deliver(KnativeRoutes.Route route, Event e) {
        URI target = services.get(route.service());
        KnativeRoutes.Delivery d = route.delivery();
        List<Attempt> attempts = new ArrayList<>();
        for (int attempt = 0; ; attempt++) {
            if (attempt > 0) {
                long retryAfter = attempts.get(attempts.size() - 1).retryAfterSeconds();
                long ms = backoff(d, attempt).toMillis();
                if (retryAfter > 0) ms = Math.max(ms, Math.round(retryAfter * 1000 * backoffScale));
                StageProcess.sleep(ms);
            }
            Attempt a;
            Event reply = null;
            long t0 = System.nanoTime();
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(target)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(e.data()));
                Duration timeout = timeout(d);
                if (timeout != null) b.timeout(timeout);
                e.attributes().forEach((k, v) -> b.header("ce-" + k, v));
                HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                long ms = (System.nanoTime() - t0) / 1_000_000;
                a = new Attempt(r.statusCode(), r.statusCode() < 300 ? null : "HTTP " + r.statusCode(),
                        retryAfterSeconds(r.headers().firstValue("Retry-After").orElse(null)), ms);
                if (a.ok()) reply = Event.fromResponse(r.headers(), r.body());
            } catch (IOException ex) {
                a = new Attempt(-1, ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage()),
                        -1, (System.nanoTime() - t0) / 1_000_000);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while delivering " + e, ex);
            }
            attempts.add(a);
            if (a.ok()) return new Hop(route.trigger(), route.service(), e, reply, List.copyOf(attempts), false);
            if (!retryable(a.status()) || attempt >= d.retry()) {
                return new Hop(route.trigger(), route.service(), e, null, List.copyOf(attempts), true);
            }
        }
    }

    /** The per-attempt timeout of a delivery as this broker applies it (the Trigger's, times the timeout scale). */
    Duration timeout(KnativeRoutes.Delivery d) {
        if (d.timeout() == null) return null;
        return Duration.ofMillis(Math.max(1, Math.round(d.timeout().toMillis() * timeoutScale)));
    }

    /** The pause before retry {@code n} (1-based) as this broker applies it (the Trigger's backoff, times the scale). */
    Duration backoff(KnativeRoutes.Delivery d, int n) {
        return Duration.ofMillis(Math.round(d.backoff(n).toMillis() * backoffScale));
    }

    private static boolean retryable(int status) {
        return status == -1 || status == 408 || status == 429 || status >= 500;
    }

    /** Retry-After in delta-seconds (the form the stages send); -1 when absent or an HTTP date. */
    private static long retryAfterSeconds(String header) {
        if (header == null) return -1;
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
