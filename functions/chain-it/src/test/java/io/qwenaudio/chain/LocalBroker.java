package io.qwenaudio.chain;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
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
 * {@code knativeerrorcode} / {@code knativeerrordest} extensions: POSTed to the sink's process at the sink's {@code uri}
 * when one runs, else collected in {@link #results()}. Events for the result Service are collected in
 * {@link #results()} instead of being POSTed.
 *
 * <p>{@link #listen()} also serves the Broker's HTTP ingress ({@link #ingress()}) and, when the manifests hold a
 * RequestReply, its data plane as Knative's {@code request-reply} service does ({@link #requestReplyAddress()}):
 * the request event gets the correlation extension {@code <ce-id>:<base64url(AES-GCM(ce-id))>:0}, goes into the broker,
 * and the HTTP request is answered with the first event whose reply extension carries a value this RequestReply made
 * (binary mode, 200), or, when none comes within the RequestReply's {@code timeout}, with 200 and no event. Replies
 * that find no waiting request are dropped and counted, as the data plane drops them.
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
    /** Every event that reached the RequestReply's reply routing, delivered or not. */
    private final List<Event> replies = Collections.synchronizedList(new ArrayList<>());
    /** Every trace of an event published through the HTTP ingress or the RequestReply. */
    private final List<Trace> traces = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, CompletableFuture<Event>> waiting = new ConcurrentHashMap<>();
    private final AtomicInteger droppedReplies = new AtomicInteger();
    private final ExecutorService async = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "local-broker");
        t.setDaemon(true);
        return t;
    });
    private final SecretKey replyKey = aesKey();
    private volatile Duration requestReplyTimeout;
    private volatile BeforeDelivery httpHook = (r, e) -> {
    };
    private HttpServer server;

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
        this.services = new ConcurrentHashMap<>(services);
        this.resultService = resultService;
        this.backoffScale = backoffScale;
        this.requestReplyTimeout = routes.requestReply == null ? null : routes.requestReply.timeout();
        for (KnativeRoutes.Route r : routes.routes) {
            if (!r.service().equals(resultService) && !services.containsKey(r.service())) {
                throw new IllegalStateException("Trigger " + r.trigger() + " sends to Service " + r.service()
                        + ", which has no local process " + services.keySet());
            }
        }
    }

    /** Adds the process standing for a Service (e.g. one started after the broker, which needs its address). */
    void service(String name, URI address) {
        services.put(name, address);
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
                    String sink = r.delivery().deadLetterService();
                    if (sink != null && services.containsKey(sink) && !sink.equals(resultService)) {
                        hops.add(deadLetter(r, sink, dead));
                    } else if (sink != null) {
                        results.add(dead);
                        reachedSink.add(dead);
                    }
                } else if (hop.reply() != null) {
                    queue.add(hop.reply());
                }
            }
            reply(e);
        }
        return new Trace(hops, reachedSink, (System.nanoTime() - t0) / 1_000_000);
    }

    /** The dead letter POSTed to the sink's process at the sink's {@code uri}, once (Knative does not retry the sink here). */
    private Hop deadLetter(KnativeRoutes.Route r, String sink, Event dead) {
        URI base = services.get(sink);
        String path = r.delivery().deadLetterPath();
        URI target = path == null ? base : base.resolve(path);
        long t0 = System.nanoTime();
        Attempt a;
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(dead.data()));
            dead.attributes().forEach((k, v) -> b.header("ce-" + k, v));
            HttpResponse<byte[]> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            a = new Attempt(resp.statusCode(), resp.statusCode() < 300 ? null : "HTTP " + resp.statusCode(), -1,
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException ex) {
            a = new Attempt(-1, ex.toString(), -1, (System.nanoTime() - t0) / 1_000_000);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while dead-lettering " + dead, ex);
        }
        return new Hop(r.trigger() + " (dead letter)", sink, dead, null, List.of(a), false);
    }

    // ---- HTTP ingress and the RequestReply data plane ----

    /** Starts the HTTP ingress on a free local port; returns its base address. */
    synchronized URI listen() throws IOException {
        if (server == null) {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
            server.setExecutor(async);
            server.createContext("/", this::serve);
            server.start();
        }
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /**
     * The Broker's ingress address: {@code <base>/broker-ingress/<namespace>/<broker>} (in a cluster the ingress is a host
     * of its own, so the prefix stands for that host).
     */
    URI ingress() throws IOException {
        return listen().resolve(INGRESS + "/" + routes.namespace + "/" + routes.broker);
    }

    /** The RequestReply's address: {@code <base>/request-reply/<namespace>/<name>} (the data plane's host, likewise). */
    URI requestReplyAddress() throws IOException {
        if (routes.requestReply == null) throw new IllegalStateException("the manifests hold no RequestReply");
        return listen().resolve(REQUEST_REPLY + routes.requestReply.path());
    }

    private static final String INGRESS = "/broker-ingress";
    private static final String REQUEST_REPLY = "/request-reply";

    /** Called before each delivery of the events that came in over HTTP (e.g. to break a subscriber). */
    void beforeHttpDeliveries(BeforeDelivery hook) {
        this.httpHook = hook;
    }

    /** Overrides how long the RequestReply holds a request (the manifests' {@code timeout} by default). */
    void requestReplyTimeout(Duration timeout) {
        this.requestReplyTimeout = timeout;
    }

    /** Events that reached the RequestReply's reply routing (answers, duplicates and late ones). */
    List<Event> replies() {
        synchronized (replies) {
            return List.copyOf(replies);
        }
    }

    /** Replies that found no waiting request (late or duplicate) and were dropped. */
    int droppedReplies() {
        return droppedReplies.get();
    }

    /** Traces of the events that came in over HTTP. */
    List<Trace> traces() {
        synchronized (traces) {
            return List.copyOf(traces);
        }
    }

    private void serve(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath().replaceAll("/+$", "");
            if (!"POST".equals(x.getRequestMethod())) {
                x.sendResponseHeaders(405, -1);
                return;
            }
            Event e = Event.fromRequest(x.getRequestHeaders(), x.getRequestBody().readAllBytes());
            if (e == null) {
                x.sendResponseHeaders(400, -1);
                return;
            }
            if (path.equals(INGRESS + "/" + routes.namespace + "/" + routes.broker)) {
                async.submit(() -> traces.add(publish(e, httpHook)));
                x.sendResponseHeaders(202, -1);
            } else if (routes.requestReply != null && path.equals(REQUEST_REPLY + routes.requestReply.path())) {
                requestReply(x, e);
            } else {
                x.sendResponseHeaders(404, -1);
            }
        }
    }

    private void requestReply(HttpExchange x, Event e) throws IOException {
        KnativeRoutes.RequestReply rr = routes.requestReply;
        Event stamped = e.with(rr.correlationAttribute(), e.id() + ":" + seal(e.id()) + ":0");
        CompletableFuture<Event> answer = new CompletableFuture<>();
        waiting.put(e.id(), answer);
        Event reply;
        try {
            async.submit(() -> traces.add(publish(stamped, httpHook)));
            reply = answer.get(requestReplyTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException ex) {
            reply = null; // Knative's data plane then returns without writing: 200, no event
        } catch (InterruptedException | ExecutionException ex) {
            throw new IOException("waiting for the reply to " + e, ex);
        } finally {
            waiting.remove(e.id());
        }
        if (reply == null) {
            x.sendResponseHeaders(200, -1);
            return;
        }
        reply.attributes().forEach((k, v) -> x.getResponseHeaders().add("ce-" + k, v));
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(200, reply.data().length == 0 ? -1 : reply.data().length);
        x.getResponseBody().write(reply.data());
    }

    /** The RequestReply's Triggers: an event carrying a reply value this RequestReply made goes to the waiting request. */
    private void reply(Event e) {
        KnativeRoutes.RequestReply rr = routes.requestReply;
        if (rr == null) return;
        String value = e.attribute(rr.replyAttribute());
        if (value == null) return;
        String[] parts = value.split(":");
        if (parts.length != 3 || !parts[0].equals(open(parts[1]))) return; // not made here: the Trigger's filter drops it
        replies.add(e);
        CompletableFuture<Event> f = waiting.get(parts[0]);
        if (f == null || !f.complete(e)) droppedReplies.incrementAndGet();
    }

    private String seal(String id) {
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, replyKey, new GCMParameterSpec(128, nonce));
            byte[] sealed = c.doFinal(id.getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[nonce.length + sealed.length];
            System.arraycopy(nonce, 0, out, 0, nonce.length);
            System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
            return Base64.getUrlEncoder().encodeToString(out);
        } catch (GeneralSecurityException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The id sealed in {@code token}, or null when this RequestReply did not make it. */
    private String open(String token) {
        try {
            byte[] in = Base64.getUrlDecoder().decode(token);
            if (in.length < 12 + 16) return null;
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, replyKey, new GCMParameterSpec(128, in, 0, 12));
            return new String(c.doFinal(in, 12, in.length - 12), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException | IllegalArgumentException ex) {
            return null;
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private static SecretKey aesKey() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        return new SecretKeySpec(k, "AES");
    }

    /** Stops the HTTP ingress. */
    void close() {
        if (server != null) server.stop(0);
        async.shutdownNow();
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
