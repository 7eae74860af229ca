package io.qwenaudio.chain;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.testing.RawHttp;
import io.qwenaudio.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged app (heap capped at 512 MiB, 64 MiB for requests in flight, a 5 s body timeout) under a bounded flood
 * of bad uploads sent in parallel with normal requests: empty bodies (plain, chunked, every content type), stalled
 * uploads that announce 1 MB and send 10 bytes, bodies announced over the size limit, and large valid clips that
 * press on the memory budget. Normal requests keep their latency (no worker thread waits for a body), every bad upload
 * gets its 4xx quickly (the stalled ones when the body timeout expires: they hold only what they sent, so they reserve
 * nothing), large clips are served or refused with 429 + Retry-After, nothing answers 5xx, and resident memory stays
 * under the bound. Prints the figures.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlowAndEmptyBodiesIT {

    private static final Map<String, String> LIMITS = Map.of(
            "qwen-audio.http.body-timeout", "5s",
            "qwen-audio.memory.max-in-flight", "64M",
            "qwen-audio.encode.max-batch", "1");
    private static final int EMPTY = 160;
    private static final int STALLED = 60;
    private static final int OVERSIZE = 20;
    private static final int LARGE = 8;
    /** Resident memory may grow by at most this over the rested app: heap cap 512 MiB, budget 64 MiB in flight. */
    private static final double RSS_GROWTH_BOUND_MIB = 512;

    private StageProcess app;
    private RawHttp http;
    private byte[] clip;
    private byte[] large;

    @BeforeAll
    void start() {
        clip = SampleAudio.vibratoTone(16_000, 3.0, 220);
        large = SampleAudio.vibratoTone(44_100, 60.0, 220); // 5.3 MB: a few fill the 64 MiB budget with their windows
        app = StageChain.app(TinyModel.get().artifacts, StageChain.workDir("slow-and-empty"), LIMITS);
        app.start();
        http = new RawHttp("127.0.0.1", app.port, 60_000);
    }

    @AfterAll
    void stop() {
        if (app != null) app.close();
    }

    private RawHttp.Answer normal() throws Exception {
        return http.send(RawHttp.Request.withBody("POST", "/v1/audio/describe?greedy=true&max_new_tokens=8",
                Map.of("content-type", "audio/wav"), clip));
    }

    record Outcome(String kind, RawHttp.Answer answer) {
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void badUploadsDoNotSlowNormalRequestsNorGrowMemory() throws Exception {
        for (int i = 0; i < 3; i++) assertEquals(200, normal().status()); // warm-up
        List<Long> baseline = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            RawHttp.Answer a = normal();
            assertEquals(200, a.status(), a.text());
            baseline.add(a.millis());
        }
        double restRss = app.rssMiB();

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

        ExecutorService pool = Executors.newFixedThreadPool(96);
        List<Future<Outcome>> flood = new ArrayList<>();
        String[] paths = {"/v1/audio/describe", "/encode", "/embed", "/adapt", "/generate", "/v1/chat/completions"};
        String[] types = {"audio/wav", "application/json", "application/octet-stream", "text/plain"};
        try {
            for (int i = 0; i < Math.max(EMPTY, Math.max(STALLED, Math.max(OVERSIZE, LARGE))); i++) {
                int k = i;
                if (i < EMPTY) {
                    String path = paths[k % paths.length];
                    Map<String, String> h = Map.of("content-type", path.startsWith("/v1/audio") ? types[k % 3] : "application/json");
                    RawHttp.Request r = k % 2 == 0 ? RawHttp.Request.withBody("POST", path, h, new byte[0])
                            : RawHttp.Request.chunked("POST", path, h, new byte[0]);
                    flood.add(pool.submit(() -> new Outcome("empty", http.send(r))));
                }
                if (i < STALLED) {
                    String path = paths[k % paths.length];
                    RawHttp.Request r = RawHttp.Request.stalled("POST", path, Map.of("content-type",
                            path.startsWith("/v1/audio") ? "audio/wav" : "application/json"), new byte[10], 1_000_000);
                    flood.add(pool.submit(() -> new Outcome("stalled", http.send(r))));
                }
                if (i < OVERSIZE) {
                    RawHttp.Request r = RawHttp.Request.stalled("POST", paths[k % paths.length], Map.of("content-type",
                            "application/json"), new byte[10], 1L << 30);
                    flood.add(pool.submit(() -> new Outcome("oversize", http.send(r))));
                }
                if (i < LARGE) {
                    RawHttp.Request r = RawHttp.Request.withBody("POST", "/v1/audio/describe?greedy=true&max_new_tokens=4",
                            Map.of("content-type", "audio/wav"), large);
                    flood.add(pool.submit(() -> new Outcome("large", http.send(r))));
                }
            }
            // normal requests, one after another, while the flood is on
            List<Long> underLoad = new ArrayList<>();
            int normalFailures = 0, normalShed = 0;
            while (underLoad.size() < 6 || flood.stream().anyMatch(f -> !f.isDone())) {
                RawHttp.Answer a = normal();
                if (a.status() == 429 && a.header("retry-after") != null) normalShed++; // the large clips took the budget
                else if (a.status() != 200) normalFailures++;
                else underLoad.add(a.millis());
                if (underLoad.size() + normalShed > 200) break;
            }
            Map<String, Map<Integer, Integer>> byKind = new TreeMap<>();
            Map<String, Long> maxMs = new TreeMap<>();
            int fiveXx = 0;
            List<String> wrong = new ArrayList<>();
            for (Future<Outcome> f : flood) {
                Outcome o = f.get(60, TimeUnit.SECONDS);
                RawHttp.Answer a = o.answer();
                byKind.computeIfAbsent(o.kind(), x -> new TreeMap<>()).merge(a.status(), 1, Integer::sum);
                maxMs.merge(o.kind(), a.millis(), Math::max);
                if (a.status() >= 500 || a.status() < 0) fiveXx++;
                boolean ok = switch (o.kind()) {
                    case "empty" -> a.status() == 400;
                    case "stalled" -> a.status() == 408;
                    case "oversize" -> a.status() == 413;
                    // a 5 MB upload competing for two cores with the flood's 96 client threads and the encoder can miss
                    // the body timeout: a 408 is then the documented answer, as 429 is when the budget is taken
                    default -> a.status() == 200 || a.status() == 408 || (a.status() == 429 && a.header("retry-after") != null);
                };
                if (!ok) wrong.add(o.kind() + ": " + a.status() + " " + a.text());
            }
            sampling.set(false);
            sampler.join();
            double peakRss = peakKb.get() / 1024.0;
            long baseMedian = median(baseline), loadMedian = median(underLoad), loadMax = Collections.max(underLoad);
            System.out.printf(Locale.ROOT, "slow/empty-body flood: %d bad uploads (%d empty, %d stalled, %d over the limit) + %d "
                            + "large clips in parallel with %d normal requests (%d shed with 429); answers %s; 5xx: %d; max answer ms %s; normal "
                            + "describe median %d ms at rest, %d ms (max %d) under the flood; RSS %.0f MiB at rest, peak %.0f MiB "
                            + "(bound: +%.0f MiB; heap cap 512 MiB, 64 MiB in flight)%n",
                    EMPTY + STALLED + OVERSIZE, EMPTY, STALLED, OVERSIZE, LARGE, underLoad.size() + normalShed, normalShed, byKind, fiveXx, maxMs,
                    baseMedian, loadMedian, loadMax, restRss, peakRss, RSS_GROWTH_BOUND_MIB);
            assertEquals(List.of(), wrong);
            assertTrue(byKind.get("large").getOrDefault(200, 0) + byKind.get("large").getOrDefault(429, 0) > 0,
                    "large clips must be served or refused for memory, not only timed out: " + byKind);
            assertEquals(0, fiveXx);
            assertEquals(0, normalFailures, "normal requests must be served (or shed with 429 for memory)");
            assertTrue(normalShed <= underLoad.size() / 4, "normal requests shed: " + normalShed + " of "
                    + (normalShed + underLoad.size()));
            // "at once" on a 2-core machine busy with the flood's own 96 client threads: well under the body timeout
            assertTrue(maxMs.get("empty") < 5_000, "empty bodies must be answered at once: " + maxMs);
            assertTrue(maxMs.get("oversize") < 5_000, "oversize bodies must be answered at once: " + maxMs);
            assertTrue(maxMs.get("stalled") < 5_000 + 5_000, "stalled bodies are answered when the body timeout expires: " + maxMs);
            assertTrue(loadMedian <= 3 * baseMedian + 1_000, "normal requests keep their latency: median " + loadMedian
                    + " ms under the flood vs " + baseMedian + " ms at rest");
            assertTrue(peakRss - restRss <= RSS_GROWTH_BOUND_MIB, "RSS grew from " + restRss + " to " + peakRss + " MiB");
            assertEquals(200, normal().status(), "the app serves normally afterwards");
        } finally {
            pool.shutdownNow();
        }
    }

    private static long median(List<Long> xs) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }
}
