package io.qwenaudio.chain;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static io.qwenaudio.chain.StageChain.ADAPT;
import static io.qwenaudio.chain.StageChain.GENERATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stage that does not answer: the generate process is frozen ({@code SIGSTOP}) while the broker delivers to it.
 * The broker must give up on each attempt after the generate Trigger's {@code delivery.timeout}, retry with the
 * Trigger's backoff, and either complete once the process runs again ({@code SIGCONT}) or, when every attempt
 * times out, dead-letter the event to the result sink; never wait for ever. Also: events of a request that has
 * already finished, delivered again, get the same reply (same {@code ce-id}) and are not computed again.
 *
 * <p>The manifests' timeouts are minutes (generate: {@code PT10M}); the broker here multiplies them by
 * {@code chain.timeout-scale} (default 0.01, generate 6 s) and the backoffs by {@code chain.backoff-scale}
 * (default 0.1), so the test takes about half a minute after the stages are up.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StageTimeoutIT {

    private static final String SOURCE = "qwen-audio/stage-timeout-it";
    private static final double TIMEOUT_SCALE = Double.parseDouble(System.getProperty("chain.timeout-scale", "0.01"));
    private static final double BACKOFF_SCALE = Double.parseDouble(System.getProperty("chain.backoff-scale", "0.1"));
    private static final Wire.GenerateParams GENERATE_PARAMS = new Wire.GenerateParams("What does the person say?", null,
            null, 8, true, null, null, null, null, 1L, null);
    /** How much later than the timeout a timed-out attempt may end (scheduling on a busy machine). */
    private static final long TIMEOUT_SLACK_MS = 2_000;

    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<String> report = new ArrayList<>();
    private StageChain chain;
    private LocalBroker broker;
    private KnativeRoutes.Delivery generateDelivery;
    private Duration generateTimeout;
    private byte[] speech;
    /** The request that ran without trouble: its trace and its text.generated. */
    private LocalBroker.Trace normal;
    private Event normalResult;
    private Wire.TextGenerated normalText;

    @BeforeAll
    void start() throws Exception {
        speech = TinyModel.speechWav("The quick brown fox jumps over the lazy dog.");
        chain = new StageChain(TinyModel.get().artifacts, StageChain.workDir("stage-timeout"), Map.of());
        broker = chain.broker(BACKOFF_SCALE, TIMEOUT_SCALE);
        generateDelivery = chain.routes.routes.stream().filter(r -> r.service().equals(GENERATE)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no Trigger delivers to " + GENERATE)).delivery();
        assertNotNull(generateDelivery.timeout(), "the generate Trigger sets no delivery.timeout");
        generateTimeout = broker.timeout(generateDelivery);
        report.add(String.format(Locale.ROOT, "generate Trigger: timeout %s (x%s = %d ms), retry %d, backoff %s %s (x%s)",
                generateDelivery.timeout(), TIMEOUT_SCALE, generateTimeout.toMillis(), generateDelivery.retry(),
                generateDelivery.backoffPolicy(), generateDelivery.backoffDelay(), BACKOFF_SCALE));
    }

    @AfterAll
    void stop() {
        timer.shutdownNow();
        StringBuilder s = new StringBuilder("\n==== stage timeouts (generate frozen with SIGSTOP) ====\n");
        report.forEach(l -> s.append(l).append('\n'));
        System.out.println(s);
        if (chain != null) chain.close();
    }

    @Test
    @Order(1)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aRequestRunsThroughWhenEveryStageAnswers() throws Exception {
        String id = "timeout-normal";
        normal = broker.publish(audioReceived(id));
        for (LocalBroker.Hop h : normal.hops()) assertEquals(1, h.attempts().size(), h.trigger() + ": " + h.attempts());
        normalResult = single(normal.results(), id);
        assertEquals(EventTypes.TEXT_GENERATED, normalResult.type(), normalResult.dataText());
        normalText = json.readValue(normalResult.data(), Wire.TextGenerated.class);
        assertFalse(normalText.tokenIds().isEmpty());
        report.add("normal request: " + normal.millis() + " ms, token ids " + normalText.tokenIds());
    }

    @Test
    @Order(2)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aFrozenGenerateTimesOutIsRetriedAndAnswersOnceAfterItRunsAgain() throws Exception {
        assertNotNull(normalText, "needs the normal request first");
        StageProcess generate = chain.get(GENERATE);
        double before = okCount(generate, "generate");
        String id = "timeout-resumed";
        long resumeAfterMs = generateTimeout.toMillis() * 3 / 2; // during the second attempt
        List<ScheduledFuture<?>> resume = new ArrayList<>();
        LocalBroker.Trace trace = broker.publish(audioReceived(id), (route, event) -> {
            if (route.service().equals(GENERATE) && resume.isEmpty()) {
                generate.pause();
                resume.add(timer.schedule(generate::resume, resumeAfterMs, TimeUnit.MILLISECONDS));
            }
        });
        assertEquals(1, resume.size(), "the broker never delivered to " + GENERATE);
        resume.get(0).get(10, TimeUnit.SECONDS);

        LocalBroker.Hop hop = hop(trace, GENERATE);
        List<LocalBroker.Attempt> attempts = hop.attempts();
        assertFalse(hop.deadLettered(), "dead-lettered: " + attempts);
        assertEquals(2, attempts.size(), "one timed-out attempt, then the one the resumed process answered: " + attempts);
        assertTimedOut(attempts.get(0));
        assertTrue(attempts.get(1).ok(), "second attempt: " + attempts);
        Event result = single(trace.results(), id);
        assertEquals(EventTypes.TEXT_GENERATED, result.type(), result.dataText());
        Wire.TextGenerated text = json.readValue(result.data(), Wire.TextGenerated.class);
        assertEquals(normalText.tokenIds(), text.tokenIds(), "same audio and options as the normal request");
        // The abandoned first delivery and the retry carry the same ce-id: the resumed process computes it once
        // (the retry waits for the running one or is answered from the reply cache).
        double computed = okCount(generate, "generate") - before;
        assertEquals(1.0, computed, "generate computations for the two deliveries of one audio.adapted");
        report.add(String.format(Locale.ROOT, "frozen during delivery, resumed after %d ms: attempts %s; one text.generated "
                        + "(%d ms end to end), generate computed it %.0f time(s), same token ids as the normal request",
                resumeAfterMs, describe(attempts), trace.millis(), computed));
    }

    @Test
    @Order(3)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aGenerateFrozenThroughEveryRetryIsDeadLetteredNotWaitedFor() throws Exception {
        StageProcess generate = chain.get(GENERATE);
        double before = okCount(generate, "generate");
        String id = "timeout-dead";
        long t0 = System.nanoTime();
        LocalBroker.Trace trace;
        try {
            trace = broker.publish(audioReceived(id), (route, event) -> {
                if (route.service().equals(GENERATE)) generate.pause();
            });
        } finally {
            generate.resume();
        }
        long tookMs = (System.nanoTime() - t0) / 1_000_000;

        LocalBroker.Hop hop = hop(trace, GENERATE);
        List<LocalBroker.Attempt> attempts = hop.attempts();
        assertTrue(hop.deadLettered(), "not dead-lettered: " + attempts);
        assertNull(hop.reply());
        assertEquals(generateDelivery.retry() + 1, attempts.size(), "the first attempt and the Trigger's retries: " + attempts);
        attempts.forEach(this::assertTimedOut);
        long bound = (generateDelivery.retry() + 1) * (generateTimeout.toMillis() + TIMEOUT_SLACK_MS)
                + Math.round(generateDelivery.window().toMillis() * BACKOFF_SCALE) + 10_000; // + encode and adapt
        assertTrue(tookMs < bound, "gave up after " + tookMs + " ms, expected under " + bound + " ms");

        Event dead = single(trace.results(), id);
        assertEquals(EventTypes.AUDIO_ADAPTED, dead.type(), "the dead letter is the undelivered event");
        assertEquals(hop.in().id(), dead.id());
        assertEquals(chain.get(GENERATE).uri().toString(), dead.attribute("knativeerrordest"));
        assertNotNull(dead.attribute("knativeerrorcode"));

        // Running again, the process serves new requests; the abandoned deliveries (one ce-id) are computed at most
        // once, and their late answers reach no one: the request keeps its single dead letter.
        String after = "timeout-after-dead";
        Event next = single(broker.publish(audioReceived(after)).results(), after);
        assertEquals(EventTypes.TEXT_GENERATED, next.type(), next.dataText());
        assertEquals(normalText.tokenIds(), json.readValue(next.data(), Wire.TextGenerated.class).tokenIds());
        double computed = okCount(generate, "generate") - before;
        assertTrue(computed >= 1 && computed <= 2, "generate computations: the new request and at most one for the "
                + "abandoned deliveries, found " + computed);
        assertEquals(1, broker.results().stream().filter(e -> id.equals(e.correlationId())).count(),
                "events of the dead-lettered request at the sink");
        report.add(String.format(Locale.ROOT, "frozen through every attempt: attempts %s, dead-lettered after %d ms "
                        + "(bound %d ms) as %s with knativeerrordest=%s knativeerrorcode=%s; resumed, the next request is "
                        + "answered normally; the abandoned deliveries were computed %.0f time(s) after the resume",
                describe(attempts), tookMs, bound, dead.type(), dead.attribute("knativeerrordest"),
                dead.attribute("knativeerrorcode"), computed - 1));
    }

    @Test
    @Order(4)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void eventsOfAFinishedRequestGetTheSameReplyAndOneResult() throws Exception {
        assertNotNull(normal, "needs the normal request first");
        String id = "timeout-normal";
        StageProcess generate = chain.get(GENERATE);
        StageProcess adapt = chain.get(ADAPT);
        double generateBefore = okCount(generate, "generate");
        double adaptBefore = okCount(adapt, "adapt");
        LocalBroker.Hop adaptHop = hop(normal, ADAPT);
        LocalBroker.Hop generateHop = hop(normal, GENERATE);

        // audio.adapted of the finished request, delivered to generate again (twice)
        for (int i = 0; i < 2; i++) {
            LocalBroker.Trace again = broker.publish(generateHop.in());
            assertEquals(1, again.hops().size());
            assertEquals(1, again.hops().get(0).attempts().size());
            Event result = single(again.results(), id);
            assertEquals(normalResult.id(), result.id(), "same text.generated ce-id");
            assertEquals(normalResult.dataText(), result.dataText(), "same text.generated body");
        }
        // and its audio.encoded to adapt: same audio.adapted, which generate answers from its cache as well
        LocalBroker.Trace fromAdapt = broker.publish(adaptHop.in());
        assertEquals(adaptHop.reply().id(), hop(fromAdapt, ADAPT).reply().id(), "same audio.adapted ce-id");
        assertEquals(normalResult.id(), single(fromAdapt.results(), id).id());

        assertEquals(generateBefore, okCount(generate, "generate"), "generate computed none of the redeliveries");
        assertEquals(adaptBefore, okCount(adapt, "adapt"), "adapt computed none of the redeliveries");
        List<Event> atSink = broker.results().stream().filter(e -> id.equals(e.correlationId())).toList();
        assertEquals(1, atSink.stream().map(Event::id).distinct().count(),
                "one result for the request (a sink deduplicating by ce-id keeps one): " + atSink);
        report.add(String.format(Locale.ROOT, "finished request: its audio.adapted delivered twice more and its audio.encoded "
                        + "once more -> the same text.generated (ce-id %s) each time, no new computation; %d deliveries at "
                        + "the sink, 1 distinct ce-id", normalResult.id(), atSink.size()));
    }

    // ---- helpers ----

    private void assertTimedOut(LocalBroker.Attempt a) {
        assertEquals(-1, a.status(), "a timed-out attempt has no status: " + a);
        assertTrue(a.error() != null && a.error().contains("Timeout"), "timed out, not another failure: " + a);
        assertTrue(a.millis() >= generateTimeout.toMillis() - 50 && a.millis() < generateTimeout.toMillis() + TIMEOUT_SLACK_MS,
                "an attempt lasts the Trigger's timeout " + generateTimeout.toMillis() + " ms: " + a);
    }

    private static String describe(List<LocalBroker.Attempt> attempts) {
        return attempts.stream().map(a -> (a.ok() ? Integer.toString(a.status()) : "timeout") + " after " + a.millis() + " ms")
                .toList().toString();
    }

    private static LocalBroker.Hop hop(LocalBroker.Trace trace, String service) {
        return trace.hops().stream().filter(h -> h.service().equals(service)).findFirst()
                .orElseThrow(() -> new AssertionError("no delivery to " + service + ": " + trace.hops()));
    }

    private Event audioReceived(String requestId) throws IOException {
        Wire.EncodeRequest request = new Wire.EncodeRequest(Base64.getEncoder().encodeToString(speech), null, TinyModel.LDV,
                null, GENERATE_PARAMS);
        Map<String, String> ext = new LinkedHashMap<>();
        ext.put("correlationid", requestId);
        ext.put("environment", TinyModel.LDV);
        return Event.create(EventTypes.AUDIO_RECEIVED, SOURCE, json.writeValueAsBytes(request), ext);
    }

    private static Event single(List<Event> events, String requestId) {
        List<Event> mine = events.stream().filter(e -> requestId.equals(e.correlationId())).toList();
        assertEquals(1, mine.size(), "terminal events of " + requestId + ": " + mine);
        return mine.get(0);
    }

    /** {@code qwen_audio_requests_total{stage=..., outcome="ok"}} of a stage process: requests it computed. */
    static double okCount(StageProcess p, String stage) throws IOException, InterruptedException {
        for (String line : p.metrics().split("\n")) {
            if (line.startsWith("qwen_audio_requests_total{") && line.contains("stage=\"" + stage + "\"")
                    && line.contains("outcome=\"ok\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }
}
