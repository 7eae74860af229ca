package io.qwenaudio.cli;

import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Measuring tools for {@link EncoderBenchmarkTest}: a realistic 30 s input window, a closed-loop throughput run
 * with N concurrent callers, batch-size counting, process memory from {@code /proc/self/status}, and a plain text
 * table.
 */
final class EncoderBench {

    private EncoderBench() {
    }

    /** One encoder call (one 30 s window); returns the hidden states so the caller can check them. */
    @FunctionalInterface
    interface Call {
        float[] run() throws Exception;
    }

    /** Result of one throughput run. */
    record Run(int windows, double seconds, double meanLatencyMs, double meanBatch) {
        double windowsPerSecond() {
            return windows / seconds;
        }
    }

    /**
     * 30 s of 16 kHz audio that looks like speech to the mel filterbank (a gliding harmonic tone with a syllable-rate
     * envelope over pink-ish noise), through the feature extractor: one full window (melLength 3000).
     */
    static Features window30s(long seed) {
        int n = FeatureExtractor.WINDOW_SAMPLES; // 480,000
        float[] x = new float[n];
        SplittableRandom rnd = new SplittableRandom(seed);
        double phase = 0, lowpass = 0;
        for (int i = 0; i < n; i++) {
            double t = i / (double) FeatureExtractor.SAMPLE_RATE;
            double f0 = 120 + 80 * Math.sin(2 * Math.PI * 0.25 * t) + 2000 * (t / 30.0); // Hz, glides up over the clip
            phase += 2 * Math.PI * f0 / FeatureExtractor.SAMPLE_RATE;
            double envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);                 // ~4 syllables per second
            double voiced = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase);
            lowpass = 0.97 * lowpass + 0.03 * rnd.nextGaussian();
            x[i] = (float) (0.2 * envelope * voiced + 0.3 * lowpass + 0.01 * rnd.nextGaussian());
        }
        Features f = FeatureExtractor.extract(x);
        if (f.windows() != 1 || f.melLength(0) != FeatureExtractor.FRAMES) {
            throw new IllegalStateException("expected one full window, found " + f.windows() + " windows, melLength "
                    + f.melLength(0));
        }
        return f;
    }

    /** Counts the batches an encoder ran and their sizes; reset before each run. */
    static final class BatchStats implements IntConsumer {
        private final AtomicLong batches = new AtomicLong();
        private final AtomicLong items = new AtomicLong();

        @Override
        public void accept(int size) {
            batches.incrementAndGet();
            items.addAndGet(size);
        }

        void reset() {
            batches.set(0);
            items.set(0);
        }

        double meanBatch() {
            long b = batches.get();
            return b == 0 ? Double.NaN : items.get() / (double) b;
        }
    }

    /**
     * Closed loop: {@code callers} threads each call {@code call} back to back; new calls start until
     * {@code minSeconds} have passed and at least {@code minWindows} calls were started. Every output is checked
     * to be finite. Throughput is completed windows over the wall time until the last call returned.
     */
    static Run throughput(Call call, int callers, double minSeconds, int minWindows, BatchStats stats) throws Exception {
        if (stats != null) stats.reset();
        AtomicInteger started = new AtomicInteger();
        AtomicLong latencyNanos = new AtomicLong();
        AtomicLong deadline = new AtomicLong();
        CountDownLatch ready = new CountDownLatch(callers), go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                done.add(pool.submit(() -> {
                    ready.countDown();
                    go.await(); // all callers start together, so the first batch is as full as the later ones
                    int mine = 0;
                    while (System.nanoTime() < deadline.get() || started.get() < minWindows) {
                        started.incrementAndGet();
                        long s = System.nanoTime();
                        float[] h = call.run();
                        latencyNanos.addAndGet(System.nanoTime() - s);
                        requireFinite(h);
                        mine++;
                    }
                    return mine;
                }));
            }
            ready.await();
            long t0 = System.nanoTime();
            deadline.set(t0 + (long) (minSeconds * 1e9));
            go.countDown();
            int windows = 0;
            for (Future<Integer> f : done) windows += f.get();
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Run(windows, seconds, latencyNanos.get() / 1e6 / windows,
                    stats == null ? 1.0 : stats.meanBatch());
        } finally {
            pool.shutdownNow();
        }
    }

    static void requireFinite(float[] h) {
        for (int i = 0; i < h.length; i++) {
            if (!Float.isFinite(h[i])) throw new AssertionError("non-finite encoder output at index " + i + ": " + h[i]);
        }
    }

    /** max |expected - actual| / max |expected| over the first {@code n} values. */
    /** A field of /proc/self/status in MiB (VmRSS = resident now, VmHWM = peak resident); -1 where unavailable. */
    static double procStatusMiB(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    String[] p = line.substring(field.length() + 1).trim().split("\\s+");
                    return Long.parseLong(p[0]) / 1024.0; // kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Samples VmRSS every 20 ms on a daemon thread and keeps the maximum. */
    static final class RssSampler implements AutoCloseable {
        private final Thread thread;
        private volatile double max;
        private volatile boolean stop;

        RssSampler() {
            max = procStatusMiB("VmRSS");
            thread = new Thread(() -> {
                while (!stop) {
                    max = Math.max(max, procStatusMiB("VmRSS"));
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        double maxMiB() {
            return Math.max(max, procStatusMiB("VmRSS"));
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.interrupt();
            thread.join();
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static String fmt(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }

    /** A plain text table: first row is the header; columns are padded to their widest cell. */
    static String table(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int c = 0; c < cols; c++) w[c] = Math.max(w[c], r[c].length());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            String[] r = rows.get(i);
            for (int c = 0; c < cols; c++) {
                String cell = r[c];
                sb.append(c == 0 ? cell + " ".repeat(w[c] - cell.length()) : " ".repeat(w[c] - cell.length()) + cell);
                sb.append(c == cols - 1 ? "\n" : " | ");
            }
            if (i == 0) {
                for (int c = 0; c < cols; c++) sb.append("-".repeat(w[c])).append(c == cols - 1 ? "\n" : "-+-");
            }
        }
        return sb.toString();
    }
}
