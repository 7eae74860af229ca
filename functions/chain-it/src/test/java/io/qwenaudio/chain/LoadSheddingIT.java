package io.qwenaudio.chain;

import io.qwenaudio.audio.SampleAudio;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.Wire;
import io.qwenaudio.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-process app under more load than it can serve, with tight admission limits (encoder queue of 2 windows,
 * batches of 1, one generation at a time and one waiting): {@code POST /v1/audio/describe} is offered about four
 * times the rate the app sustains sequentially, open loop, for 15 s. Every answer must be 200, or 429/503 with
 * Retry-After (no 500, no request left hanging), some must be shed, resident memory must stay bounded, and the
 * app must answer normally afterwards without a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoadSheddingIT {

    private static final Map<String, String> LIMITS = Map.of(
            "qwen-audio.encode.max-queue", "2",
            "qwen-audio.encode.max-batch", "1",
            "qwen-audio.generate.max-concurrent", "1",
            "qwen-audio.generate.max-waiting", "1");
    private static final int WARMUP = 3;
    private static final int SEQUENTIAL = 6;
    private static final double OVERLOAD = 4.0;
    private static final Duration LOAD = Duration.ofSeconds(15);
    /** No answer within this is a hang. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Allowed growth of resident memory under load over the rested app. The heap is capped (-Xmx512m) and a rested
     * app has already committed most of what serving one request at a time needs; what load may add is heap up to
     * the cap plus off-heap buffers for the bodies in flight and the admitted work (a few windows and one
     * generation). 512 MiB is well under what keeping every offered body would take (see the printed volume).
     */
    private static final double RSS_GROWTH_BOUND_MIB = 512;

    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private StageProcess app;
    private long coldStartMs;
    private byte[] audio;
    private URI describe;

    @BeforeAll
    void start() {
        audio = SampleAudio.vibratoTone(16000, 30, 220); // one 30 s window
        app = StageChain.app(TinyModel.get().artifacts, StageChain.workDir("load-shedding"), LIMITS);
        coldStartMs = app.start();
        describe = app.uri().resolve("/v1/audio/describe?environment=" + TinyModel.LDV + "&max_new_tokens=8&greedy=true");
    }

    @AfterAll
    void stop() {
        if (app != null) app.close();
    }

    /** One answer: status, Retry-After (null if none), body, or the exception that replaced it. */
    record Answer(int status, String retryAfter, String body, Throwable error, long millis) {
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void overloadIsShedWithRetryAfterAndTheAppRecovers() throws Exception {
        List<Integer> expectedIds = null;
        for (int i = 0; i < WARMUP; i++) {
            Answer a = send().get();
            assertEquals(200, a.status(), "warm-up request: " + a);
            expectedIds = json.readValue(a.body(), Wire.TextGenerated.class).tokenIds();
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < SEQUENTIAL; i++) assertEquals(200, send().get().status());
        double sequentialSeconds = (System.nanoTime() - t0) / 1e9;
        double rate = SEQUENTIAL / sequentialSeconds;
        double restRss = app.rssMiB();

        // open loop at OVERLOAD x the sequential rate, sampling resident memory meanwhile
        AtomicBoolean sampling = new AtomicBoolean(true);
        AtomicLong peakKb = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                peakKb.accumulateAndGet(Math.round(app.rssMiB() * 1024), Math::max);
                StageProcess.sleep(20);
            }
        }, "rss-sampler");
        sampler.setDaemon(true);
        sampler.start();
        long intervalNs = Math.round(1e9 / (rate * OVERLOAD));
        List<CompletableFuture<Answer>> answers = new ArrayList<>();
        long start = System.nanoTime();
        long end = start + LOAD.toNanos();
        for (long next = start; next < end; next += intervalNs) {
            long wait = next - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            answers.add(send());
        }
        long offeredNs = System.nanoTime() - start;
        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                .get(REQUEST_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS); // each has its own timeout too
        long drainedMs = (System.nanoTime() - start) / 1_000_000;
        sampling.set(false);
        sampler.join();
        double peakRss = peakKb.get() / 1024.0;

        Map<Integer, Integer> byStatus = new TreeMap<>();
        List<Answer> bad = new ArrayList<>();
        List<Long> okMs = new ArrayList<>();
        List<Long> shedMs = new ArrayList<>();
        for (CompletableFuture<Answer> f : answers) {
            Answer a = f.get();
            byStatus.merge(a.status(), 1, Integer::sum);
            boolean shed = (a.status() == 429 || a.status() == 503) && a.retryAfter() != null;
            if (a.status() == 200) okMs.add(a.millis());
            else if (shed) shedMs.add(a.millis());
            else bad.add(a);
        }
        int ok = okMs.size();
        int shed = shedMs.size();
        double mib = answers.size() * (double) audio.length / (1 << 20);

        // after the load, without a restart: a normal answer, the same as before
        Answer after = send().get();
        double afterRss = app.rssMiB();

        System.out.printf(Locale.ROOT, "%n==== load shedding (app, limits %s) ====%n"
                        + "cold start %d ms; 30 s clip, 8 new tokens; sequential: %d requests in %.2f s = %.2f req/s%n"
                        + "offered %d requests in %.1f s (%.1f req/s, %.1fx; %.0f MiB of audio bodies), all answered %d ms "
                        + "after the start%n"
                        + "answers by status %s: %d ok (%.2f req/s, median %d ms, max %d ms), %d shed with Retry-After "
                        + "(median %d ms, max %d ms), %d other%n"
                        + "RSS: rested %.1f MiB, peak under load %.1f MiB (+%.1f, bound +%.0f), after %.1f MiB%n"
                        + "after the load: %d%s%n",
                new TreeMap<>(LIMITS), coldStartMs, SEQUENTIAL, sequentialSeconds, rate, answers.size(), offeredNs / 1e9,
                answers.size() / (offeredNs / 1e9), OVERLOAD, mib, drainedMs, byStatus, ok, ok / (drainedMs / 1e3),
                median(okMs), max(okMs), shed, median(shedMs), max(shedMs), bad.size(), restRss, peakRss,
                peakRss - restRss, RSS_GROWTH_BOUND_MIB, afterRss, after.status(),
                after.status() == 200 ? ", same token ids as before the load" : " " + after);

        assertTrue(bad.isEmpty(), "answers other than 200 or 429/503 with Retry-After (or timeouts): "
                + bad.stream().limit(5).toList());
        assertTrue(shed > 0, "nothing was shed at " + OVERLOAD + "x the sequential rate: " + byStatus);
        assertTrue(ok > 0, "nothing was served under load: " + byStatus);
        assertTrue(peakRss - restRss < RSS_GROWTH_BOUND_MIB, String.format(Locale.ROOT,
                "resident memory grew by %.1f MiB under load (rested %.1f, peak %.1f), bound %.0f MiB",
                peakRss - restRss, restRss, peakRss, RSS_GROWTH_BOUND_MIB));
        assertEquals(200, after.status(), "after the load: " + after);
        assertEquals(expectedIds, json.readValue(after.body(), Wire.TextGenerated.class).tokenIds(),
                "the same request answers the same after the load");
        assertTrue(app.alive(), "the app is still the same process");
    }

    private CompletableFuture<Answer> send() {
        HttpRequest r = HttpRequest.newBuilder(describe).timeout(REQUEST_TIMEOUT).header("Content-Type", "audio/wav")
                .POST(HttpRequest.BodyPublishers.ofByteArray(audio)).build();
        long t0 = System.nanoTime();
        return http.sendAsync(r, HttpResponse.BodyHandlers.ofString())
                .handle((resp, err) -> {
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    if (err != null) return new Answer(-1, null, null, err, ms);
                    return new Answer(resp.statusCode(), resp.headers().firstValue("Retry-After").orElse(null),
                            resp.body(), null, ms);
                });
    }

    private static long median(List<Long> v) {
        if (v.isEmpty()) return -1;
        List<Long> s = v.stream().sorted().toList();
        return s.get(s.size() / 2);
    }

    private static long max(List<Long> v) {
        return v.stream().mapToLong(Long::longValue).max().orElse(-1);
    }
}
