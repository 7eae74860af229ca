package io.qwenaudio.cli;

import io.qwenaudio.reference.Parity;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.audio.Features;
import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.ForwardingTensorSource;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.reference.ReferenceEncoder;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.runtime.SessionFactory;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static io.qwenaudio.cli.EncoderBench.fmt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Audio encoder throughput on the CPU, in 30 s windows per second: ONNX Runtime at batch 1 against micro-batched
 * concurrent callers, and against the naive Java reference forward, on the tiny model and on a random model of the
 * real encoder size (preset {@code audio-full}: 32 layers, d_model 1280, 637 M parameters). Every configuration is
 * measured in the same run, round-robin, so a busy machine slows all of them alike; the tables give medians over
 * the rounds and the ratio to ONNX Runtime at batch 1 within each round.
 *
 * <p>Runs only with {@code -Dbench=true}. Knobs (system properties): {@code bench.threads} (ONNX Runtime intra-op
 * threads, default: available processors), {@code bench.maxWaitMs} (how long a window waits for company, default
 * 5), {@code bench.rounds} (tiny model, default 8), {@code bench.full.rounds} (default 2),
 * {@code bench.full.seconds} (least seconds per configuration and round, default 40),
 * {@code bench.full.referenceLayers} (encoder layers the naive reference runs on the big model, default 2,
 * extrapolated to all layers; 32 runs the whole encoder, several minutes, and checks it against ONNX Runtime).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EncoderBenchmarkTest {

    static final int THREADS = Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors());
    static final Duration MAX_WAIT = Duration.ofMillis(Long.getLong("bench.maxWaitMs", 5));

    /** One configuration under test: how many callers call it at once, and how one call runs. */
    record Contender(String name, String threads, int callers, EncoderBench.Call call, EncoderBench.BatchStats stats,
                     double minSeconds, int minWindows) {
    }

    @Test
    @Order(1)
    void tinyEncoder(@TempDir Path tmp) throws Exception {
        assumeTrue(Boolean.getBoolean("bench"), "encoder benchmark: run with -Dbench=true");
        int rounds = Integer.getInteger("bench.rounds", 8);
        Path ck = tmp.resolve("ck"), art = tmp.resolve("art");
        assertEquals(0, run("make-tiny", ck.toString()).code());
        CheckpointCommandsTest.Run conv = run("convert", ck.toString(), "--out", art.toString());
        assertEquals(0, conv.code(), conv.err());
        Qwen2AudioConfig cfg = Qwen2AudioConfig.read(ck);
        int d = cfg.audio().dModel();
        Features f = EncoderBench.window30s(7);
        float[] window = f.window(0);
        int melLength = f.melLength(0);

        ReferenceEncoder ref;
        try (Checkpoint w = Checkpoint.open(ck)) {
            ref = new ReferenceEncoder(cfg.audio(), w); // weights copied to the heap: the checkpoint may close
        }
        RuntimeOptions opts = RuntimeOptions.defaults().withIntraOpThreads(THREADS).withVerifyChecksums(false);
        ModelArtifacts shared = ModelArtifacts.open(art, opts);
        ModelArtifacts single = ModelArtifacts.open(art, opts.withIntraOpThreads(1));
        EncoderBench.BatchStats s1 = new EncoderBench.BatchStats(), s4 = new EncoderBench.BatchStats(),
                s8 = new EncoderBench.BatchStats(), sw = new EncoderBench.BatchStats();
        try (AudioEncoder none = shared.encoder(AudioEncoder.Batching.none(), s1);
             AudioEncoder mb4 = shared.encoder(new AudioEncoder.Batching(4, MAX_WAIT, 1024, 1), s4);
             AudioEncoder mb8 = shared.encoder(new AudioEncoder.Batching(8, MAX_WAIT, 1024, 1), s8);
             AudioEncoder twoWorkers = single.encoder(new AudioEncoder.Batching(1, Duration.ZERO, 1024, 2), sw)) {

            // sanity: ONNX Runtime equals the naive reference on the window; micro-batched equals batch 1
            float[] ort = none.encode(f).data();                                    // [750, d]
            float[] expected = ref.forward(window, melLength);                      // [750, d]
            int valid = AudioEncoder.validTokens(melLength) * d;
            double e = Parity.relError(expected, 0, ort, 0, valid);
            System.out.printf("tiny: ONNX Runtime vs naive reference on the 30 s window: rel %.2e%n", e);
            assertTrue(e <= 1e-4, "ONNX Runtime differs from the reference: rel " + e);
            assertBatchedEqualsSingle(mb8, f, ort, 8);

            String t = THREADS + " intra";
            List<Contender> cs = List.of(
                    new Contender("ORT batch 1, 1 caller (baseline)", t, 1, () -> none.encode(f).data(), s1, 1, 8),
                    new Contender("ORT batch 1, 8 callers", t, 8, () -> none.encode(f).data(), s1, 1, 16),
                    new Contender("ORT micro-batch max 4, 8 callers", t, 8, () -> mb4.encode(f).data(), s4, 1, 16),
                    new Contender("ORT micro-batch max 8, 8 callers", t, 8, () -> mb8.encode(f).data(), s8, 1, 16),
                    new Contender("ORT batch 1, 2 workers, 8 callers", "1 intra x 2", 8,
                            () -> twoWorkers.encode(f).data(), sw, 1, 16),
                    new Contender("naive Java reference, 1 caller", "common pool", 1,
                            () -> ref.forward(window, melLength), null, 1, 1));
            Map<String, List<EncoderBench.Run>> runs = measure(cs, rounds, 1);
            double ortOverNaive = medianRatio(runs.get(cs.get(0).name()), runs.get(cs.get(5).name()));
            System.out.println();
            System.out.println(fmt("Tiny encoder (d_model %d, %d layers), one full 30 s window per call, %d rounds, "
                    + "ONNX Runtime intra-op threads %d, %d cores:", d, cfg.audio().encoderLayers(), rounds, THREADS,
                    Runtime.getRuntime().availableProcessors()));
            System.out.print(report(cs, runs));
            System.out.println(fmt("ORT batch 1 / naive reference: %.1fx (target >= 20x)%n", ortOverNaive));
        }
    }

    @Test
    @Order(2)
    void realSizeEncoder(@TempDir Path tmp) throws Exception {
        assumeTrue(Boolean.getBoolean("bench"), "encoder benchmark: run with -Dbench=true");
        int rounds = Integer.getInteger("bench.full.rounds", 2);
        double seconds = Double.parseDouble(System.getProperty("bench.full.seconds", "40"));
        Path ck = tmp.resolve("ck"), art = tmp.resolve("art");
        // generated and converted in a child JVM so that this process's memory figures show the serving side only
        long t0 = System.nanoTime();
        cli(tmp.resolve("make-tiny.log"), "make-tiny", ck.toString(), "--preset", "audio-full");
        long t1 = System.nanoTime();
        cli(tmp.resolve("convert.log"), "convert", ck.toString(), "--out", art.toString());
        long t2 = System.nanoTime();
        Qwen2AudioConfig cfg = Qwen2AudioConfig.read(ck);
        AudioEncoderConfig a = cfg.audio();
        Features f = EncoderBench.window30s(7);
        int melLength = f.melLength(0);
        Map<String, String> facts = new LinkedHashMap<>();
        fact(facts, "make-tiny --preset audio-full (child JVM)", fmt("%.1f s", (t1 - t0) / 1e9));
        fact(facts, "convert (child JVM)", fmt("%.1f s, %.2f GB on disk", (t2 - t1) / 1e9, sizeGB(art)));

        System.gc();
        fact(facts, "RSS before load", mib(EncoderBench.procStatusMiB("VmRSS")));
        RuntimeOptions opts = RuntimeOptions.defaults().withIntraOpThreads(THREADS).withVerifyChecksums(false);
        ModelArtifacts artifacts = ModelArtifacts.open(art, opts);
        assertEquals(1280, artifacts.manifest().audio().dModel());
        SessionFactory sessions = new SessionFactory(opts);
        OrtSession session;
        try (EncoderBench.RssSampler load = new EncoderBench.RssSampler()) {
            long s = System.nanoTime();
            session = sessions.open(art.resolve(artifacts.manifest().graph(Manifest.AUDIO_ENCODER).file()));
            fact(facts, "ORT session load", fmt("%.1f s", (System.nanoTime() - s) / 1e9));
            fact(facts, "RSS peak during load", mib(load.maxMiB()));
        }
        System.gc();
        fact(facts, "RSS at rest after load", mib(EncoderBench.procStatusMiB("VmRSS")));

        // three batching settings over one session (one copy of the weights in memory)
        EncoderBench.BatchStats s1 = new EncoderBench.BatchStats(), s2 = new EncoderBench.BatchStats(),
                s4 = new EncoderBench.BatchStats();
        int d = a.dModel();
        AudioEncoder none = new AudioEncoder(sessions.environment(), session, d, AudioEncoder.Batching.none(), s1);
        AudioEncoder mb2 = new AudioEncoder(sessions.environment(), session, d,
                new AudioEncoder.Batching(2, MAX_WAIT, 1024, 1), s2);
        AudioEncoder mb4 = new AudioEncoder(sessions.environment(), session, d,
                new AudioEncoder.Batching(4, MAX_WAIT, 1024, 1), s4);
        int layers = Integer.getInteger("bench.full.referenceLayers", 2);
        float[] first, refOut;
        double tNone, tLayers, ortWindow;
        List<Contender> cs;
        Map<String, List<EncoderBench.Run>> runs;
        try {
            try (EncoderBench.RssSampler underLoad = new EncoderBench.RssSampler()) {
                long s = System.nanoTime();
                first = none.encode(f).data(); // [750, 1280]
                fact(facts, "first window (cold)", fmt("%.2f s", (System.nanoTime() - s) / 1e9));
                EncoderBench.requireFinite(first);
                fact(facts, "RSS after the first window", mib(EncoderBench.procStatusMiB("VmRSS")));
                assertBatchedEqualsSingle(mb4, f, first, 4);
                fact(facts, "RSS after a first batch of 4", mib(EncoderBench.procStatusMiB("VmRSS")));

                String t = THREADS + " intra";
                cs = List.of(
                        new Contender("ORT batch 1, 1 caller (baseline)", t, 1,
                                () -> none.encode(f).data(), s1, seconds, 2),
                        new Contender("ORT micro-batch max 2, 4 callers", t, 4,
                                () -> mb2.encode(f).data(), s2, seconds, 4),
                        new Contender("ORT micro-batch max 4, 4 callers", t, 4,
                                () -> mb4.encode(f).data(), s4, seconds, 8));
                runs = measure(cs, rounds, 0);
                fact(facts, "RSS peak under load (sampled every 20 ms)", mib(underLoad.maxMiB()));
            }
            fact(facts, "VmHWM (process peak, includes the tiny test if it ran first)",
                    mib(EncoderBench.procStatusMiB("VmHWM")));

            // the naive reference is far too slow for many windows: time `layers` layers and the layer-free part
            // (convs, pool, final norm), extrapolate to all layers, and time one ORT window just before and after
            try (Checkpoint w = Checkpoint.open(ck)) {
                long s = System.nanoTime();
                none.encode(f);
                double ortBefore = (System.nanoTime() - s) / 1e9;
                s = System.nanoTime();
                new ReferenceEncoder(withLayers(a, 0), firstLayers(w, 0)).forward(f.window(0), melLength);
                tNone = (System.nanoTime() - s) / 1e9;
                ReferenceEncoder ref = new ReferenceEncoder(withLayers(a, layers), firstLayers(w, layers));
                s = System.nanoTime();
                refOut = ref.forward(f.window(0), melLength);
                tLayers = (System.nanoTime() - s) / 1e9;
                s = System.nanoTime();
                none.encode(f);
                ortWindow = (ortBefore + (System.nanoTime() - s) / 1e9) / 2;
            }
        } finally {
            none.close(); // stops its batcher and closes the shared session
            for (AudioEncoder e : List.of(mb2, mb4)) {
                try {
                    e.close(); // stops the batcher, then finds the session closed
                } catch (IllegalStateException sessionAlreadyClosed) {
                    // expected: ONNX Runtime refuses to close a session twice
                }
            }
        }
        EncoderBench.requireFinite(refOut);
        double perLayer = (tLayers - tNone) / Math.max(1, layers);
        double naiveWindow = tNone + a.encoderLayers() * perLayer;
        fact(facts, "naive reference: convs + pool + norm (0 layers)", fmt("%.1f s", tNone));
        fact(facts, fmt("naive reference: %d of %d layers", layers, a.encoderLayers()), fmt("%.1f s (%.1f s per layer)",
                tLayers, perLayer));
        fact(facts, "naive reference: one window, all layers" + (layers == a.encoderLayers() ? "" : " (extrapolated)"),
                fmt("%.0f s = %.5f windows/s", naiveWindow, 1 / naiveWindow));
        if (layers == a.encoderLayers()) {
            double e = Parity.relError(refOut, 0, first, 0, AudioEncoder.validTokens(melLength) * d);
            fact(facts, "ORT vs naive reference, all layers", fmt("rel %.2e", e));
            assertTrue(e <= 1e-3, "ONNX Runtime differs from the reference on the real-size encoder: rel " + e);
        }
        fact(facts, "ORT batch 1 window, mean of one just before and one just after the reference",
                fmt("%.2f s", ortWindow));
        fact(facts, "naive reference / ORT batch 1 (same minutes)", fmt("%.1fx", naiveWindow / ortWindow));
        double ortBatch1 = EncoderBench.median(runs.get(cs.get(0).name()).stream()
                .mapToDouble(EncoderBench.Run::windowsPerSecond).toArray());
        double gflop = encoderFlops(a) / 1e9;
        fact(facts, "encoder FLOPs per window (2 x MACs)", fmt("%.0f GFLOP", gflop));
        fact(facts, "ORT batch 1 achieved", fmt("%.0f GFLOP/s", gflop * ortBatch1));

        System.out.println();
        System.out.println(fmt("Real-size encoder (random weights; d_model %d, %d layers, %d heads, ffn %d), one full "
                        + "30 s window per call, %d rounds of >= %.0f s, ONNX Runtime intra-op threads %d, %d cores:",
                a.dModel(), a.encoderLayers(), a.encoderAttentionHeads(), a.encoderFfnDim(), rounds, seconds, THREADS,
                Runtime.getRuntime().availableProcessors()));
        System.out.print(report(cs, runs));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"measure", "value"});
        facts.forEach((k, v) -> rows.add(new String[] {k, v}));
        System.out.println(EncoderBench.table(rows));
    }

    /** {@code n} concurrent calls through a batching encoder give the batch-1 output (to float rounding). */
    static void assertBatchedEqualsSingle(AudioEncoder batching, Features f, float[] single, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<float[]>> outs = new ArrayList<>();
            for (int i = 0; i < n; i++) outs.add(pool.submit(() -> batching.encode(f).data()));
            for (Future<float[]> o : outs) {
                double e = Parity.relError(single, 0, o.get(), 0, single.length);
                assertTrue(e <= 1e-5, "micro-batched output differs from batch 1: rel " + e);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs every contender once per round, in order, after {@code warmups} discarded rounds. */
    static Map<String, List<EncoderBench.Run>> measure(List<Contender> cs, int rounds, int warmups) throws Exception {
        Map<String, List<EncoderBench.Run>> runs = new LinkedHashMap<>();
        for (Contender c : cs) runs.put(c.name(), new ArrayList<>());
        for (int r = -warmups; r < rounds; r++) {
            for (Contender c : cs) {
                EncoderBench.Run run = r < 0
                        ? EncoderBench.throughput(c.call(), c.callers(), 0, c.callers(), c.stats())
                        : EncoderBench.throughput(c.call(), c.callers(), c.minSeconds(), c.minWindows(), c.stats());
                if (r >= 0) runs.get(c.name()).add(run);
                System.out.println(fmt("  %s %-36s %3d windows in %6.2f s = %8.3f windows/s, mean batch %.2f, "
                                + "mean latency %.0f ms", r < 0 ? "warm-up " : "round " + (r + 1), c.name(), run.windows(),
                        run.seconds(), run.windowsPerSecond(), run.meanBatch(), run.meanLatencyMs()));
            }
        }
        return runs;
    }

    /** Median over rounds of a/b windows per second, pairing each round's runs. */
    static double medianRatio(List<EncoderBench.Run> a, List<EncoderBench.Run> b) {
        double[] r = new double[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).windowsPerSecond() / b.get(i).windowsPerSecond();
        return EncoderBench.median(r);
    }

    static String report(List<Contender> cs, Map<String, List<EncoderBench.Run>> runs) {
        List<EncoderBench.Run> base = runs.get(cs.get(0).name());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"configuration", "threads", "windows/s", "min..max", "vs batch 1", "mean batch",
                "latency ms", "windows"});
        for (Contender c : cs) {
            List<EncoderBench.Run> rs = runs.get(c.name());
            double[] wps = rs.stream().mapToDouble(EncoderBench.Run::windowsPerSecond).toArray();
            double min = Arrays.stream(wps).min().orElseThrow(), max = Arrays.stream(wps).max().orElseThrow();
            rows.add(new String[] {c.name(), c.threads(), num(EncoderBench.median(wps)), num(min) + ".." + num(max),
                    fmt("%.2fx", medianRatio(rs, base)),
                    fmt("%.2f", EncoderBench.median(rs.stream().mapToDouble(EncoderBench.Run::meanBatch).toArray())),
                    fmt("%.0f", EncoderBench.median(rs.stream().mapToDouble(EncoderBench.Run::meanLatencyMs).toArray())),
                    String.valueOf(rs.stream().mapToInt(EncoderBench.Run::windows).sum())});
        }
        return EncoderBench.table(rows);
    }

    /**
     * Multiply-adds of one 30 s window, times 2: conv1 (3000 frames) and conv2 (1500), then per layer and position
     * q/k/v/out (4 d^2), fc1 + fc2 (2 d f) and attention scores + weighted sum over 1500 keys (2 * 1500 d).
     */
    static double encoderFlops(AudioEncoderConfig a) {
        double d = a.dModel(), f = a.encoderFfnDim(), t = a.maxSourcePositions();
        double conv = d * a.numMelBins() * 3 * 2 * t + d * d * 3 * t;
        double layer = t * (4 * d * d + 2 * d * f + 2 * t * d);
        return 2 * (conv + a.encoderLayers() * layer);
    }

    static AudioEncoderConfig withLayers(AudioEncoderConfig a, int layers) {
        return new AudioEncoderConfig(a.dModel(), layers, a.encoderAttentionHeads(), a.encoderFfnDim(), a.numMelBins(),
                a.maxSourcePositions(), a.activationFunction(), a.scaleEmbedding());
    }

    /** The audio tower without layers {@code >= layers} (so the reference loads only what it will use). */
    static TensorSource firstLayers(TensorSource w, int layers) {
        String p = "audio_tower.layers.";
        Set<String> names = w.names().stream()
                .filter(n -> n.startsWith("audio_tower."))
                .filter(n -> !n.startsWith(p) || Integer.parseInt(n.substring(p.length(), n.indexOf('.', p.length()))) < layers)
                .collect(Collectors.toUnmodifiableSet());
        return new ForwardingTensorSource(w) {
            @Override
            public Set<String> names() {
                return names;
            }
        };
    }

    /** Runs the command line in a child JVM with this test's class path; fails with its output on a non-zero exit. */
    static void cli(Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), QwenAudio.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        int code = p.waitFor();
        assertEquals(0, code, "qwen-audio " + String.join(" ", args) + " failed:\n" + Files.readString(log));
    }

    static double sizeGB(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum() / 1e9;
        }
    }

    /** Records a measured fact for the final table and prints it at once (the real-size run takes many minutes). */
    static void fact(Map<String, String> facts, String name, String value) {
        facts.put(name, value);
        System.out.println("  " + name + ": " + value);
    }

    static String mib(double v) {
        return fmt("%.0f MiB", v);
    }

    static String num(double v) {
        return v >= 100 ? fmt("%.0f", v) : v >= 1 ? fmt("%.2f", v) : fmt("%.4f", v);
    }
}
