package io.qwenaudio.bench;

import ai.onnxruntime.OrtException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.audio.Resampler;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.events.Wire;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.projector.Projector;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The serving path's figures, stage by stage, on one set of artifacts: what a GPU owner measures first. Every
 * stage runs through the classes the functions run ({@link FeatureExtractor}, {@link AudioEncoder},
 * {@link Projector}, {@link GenerateStage} with the model's {@link io.qwenaudio.generate.Generator}), one warm-up
 * round first, then {@code rounds} timed rounds; each figure is reported as median / min / max over the rounds.
 *
 * <ul>
 *   <li>front-end: log-mel features, ms per 30 s window (the clip's windows divided into the time);</li>
 *   <li>encoder: windows/s at batch 1 and at batches 2, 4, ... up to {@code maxBatch} (the same window repeated),
 *       the best of them reported too;</li>
 *   <li>projector: ms for one 30 s window's 750 positions;</li>
 *   <li>time to first token for the clip (projection + prompt embedding + prefill + first token) and decode
 *       tokens/s at batch 1, greedy, exactly {@code maxNewTokens} tokens (stop tokens are ignored so that every
 *       round decodes the same count);</li>
 *   <li>peak RSS of the process and, on CUDA, the device memory the process holds (from {@code nvidia-smi}).</li>
 * </ul>
 */
public final class ServingBench {

    /** What to measure. */
    public record Options(int rounds, int maxNewTokens, int maxBatch) {
        public Options {
            if (rounds < 1) throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
            if (maxNewTokens < 2) throw new IllegalArgumentException("max new tokens must be >= 2 (decode speed needs "
                    + "a token after the first), got " + maxNewTokens);
            if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
        }
    }

    private final ModelArtifacts model;
    private final float[] mono16k;
    private final Options options;
    private final Consumer<String> progress;

    /**
     * @param model    the opened artifacts (their execution provider is the one measured)
     * @param mono16k  the clip, 16 kHz mono
     * @param progress told what is being measured (nullable)
     */
    public ServingBench(ModelArtifacts model, float[] mono16k, Options options, Consumer<String> progress) {
        if (mono16k.length == 0) throw new IllegalArgumentException("the clip has no samples");
        this.model = model;
        this.mono16k = mono16k;
        this.options = options;
        this.progress = progress == null ? s -> { } : progress;
    }

    /** Decodes any accepted audio file to 16 kHz mono with the serving decoder and resampler. */
    public static float[] decode(byte[] audio) {
        AudioLimits limits = AudioLimits.DEFAULT;
        try (AudioStream in = AudioDecoder.open(audio, limits)) {
            limits.check(in.sampleRate(), in.channels());
            AudioStream s = Resampler.to16k(in);
            float[] buf = new float[FeatureExtractor.SAMPLE_RATE];
            int n = 0;
            for (int r; (r = s.read(buf, n, buf.length - n)) >= 0; ) {
                n += r;
                limits.checkDuration(n / (double) FeatureExtractor.SAMPLE_RATE);
                if (n == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
            }
            return Arrays.copyOf(buf, n); // [samples] 16 kHz mono
        }
    }

    /** Runs the warm-up and the timed rounds. */
    public BenchReport run() throws OrtException {
        Manifest m = model.manifest();
        Samples frontEnd = new Samples("front_end_ms_per_window");
        Map<Integer, Samples> encoder = new LinkedHashMap<>();
        Samples projector = new Samples("projector_ms");
        Samples ttft = new Samples("ttft_ms");
        Samples decode = new Samples("decode_tokens_per_second");

        // front-end on the clip as given
        Features clip = null;
        for (int r = 0; r <= options.rounds(); r++) {
            progress.accept("front-end round " + r + "/" + options.rounds());
            long t0 = System.nanoTime();
            clip = FeatureExtractor.extract(mono16k);
            double ms = (System.nanoTime() - t0) / 1e6;
            if (r > 0) frontEnd.add(ms / clip.windows());
        }
        // encoder at batch 1, 2, 4, ... on the clip's first window repeated
        float[] window = Arrays.copyOf(mono16k, Math.min(mono16k.length, FeatureExtractor.WINDOW_SAMPLES));
        FloatTensor hidden = null; // [N, d] of the clip
        for (int b = 1; b <= options.maxBatch(); b *= 2) {
            Features batch = FeatureExtractor.extract(repeat(window, b));
            Samples s = new Samples("encoder_windows_per_second_batch_" + b);
            try (AudioEncoder enc = model.encoder(new AudioEncoder.Batching(b, Duration.ofSeconds(1), Math.max(b, 16), 1), null)) {
                for (int r = 0; r <= options.rounds(); r++) {
                    progress.accept("encoder batch " + b + " round " + r + "/" + options.rounds());
                    long t0 = System.nanoTime();
                    enc.encode(batch);
                    double sec = (System.nanoTime() - t0) / 1e9;
                    if (r > 0) s.add(b / sec);
                }
                if (b == 1) hidden = enc.encode(clip); // [N, d]
            }
            encoder.put(b, s);
        }
        // projector on one 30 s window's positions
        int d = m.audio().dModel();
        FloatTensor oneWindow = FloatTensor.of(new float[AudioEncoder.POSITIONS * d], AudioEncoder.POSITIONS, d); // [750, d]
        System.arraycopy(hidden.data(), 0, oneWindow.data(), 0, Math.min(hidden.data().length, oneWindow.data().length));
        try (Projector p = model.projector()) {
            for (int r = 0; r <= options.rounds(); r++) {
                progress.accept("projector round " + r + "/" + options.rounds());
                long t0 = System.nanoTime();
                p.project(oneWindow);
                if (r > 0) projector.add((System.nanoTime() - t0) / 1e6);
            }
        }
        // time to first token and decode speed on the clip, greedy, exactly maxNewTokens tokens
        int promptTokens = 0;
        GenerationOptions o = GenerationOptions.defaults(m).withGreedy().withMaxNewTokens(options.maxNewTokens())
                .withStopTokenIds(List.of()).withStopStrings(List.of());
        Wire.GenerateParams params = new Wire.GenerateParams(null, null, null, options.maxNewTokens(), true,
                null, null, null, null, null, null);
        try (GenerateStage g = new GenerateStage(model.projector(), model.generator(), null, d, model.chatTemplate())) {
            for (int r = 0; r <= options.rounds(); r++) {
                progress.accept("generate round " + r + "/" + options.rounds());
                long[] first = {0};
                long t0 = System.nanoTime();
                Generation gen = g.generate(List.of(hidden), params, o, (id, piece) -> {
                    if (first[0] == 0) first[0] = System.nanoTime();
                    return true;
                }).generation();
                promptTokens = gen.promptTokens();
                if (r > 0) {
                    ttft.add((first[0] - t0) / 1e6);
                    decode.add(gen.decodeTokensPerSecond());
                }
            }
        }
        Map<String, Samples> encoderByBatch = new LinkedHashMap<>();
        int best = 1;
        for (var e : encoder.entrySet()) {
            encoderByBatch.put(String.valueOf(e.getKey()), e.getValue());
            if (e.getValue().median() > encoder.get(best).median()) best = e.getKey();
        }
        Manifest.GraphSpec dec = m.graph(Manifest.DECODER);
        return new BenchReport(model.provider(), m.dtype(), dec.dtype(), dec.opSet(), model.generator().ioBinding(),
                options.rounds(), mono16k.length / (double) FeatureExtractor.SAMPLE_RATE, clip.windows(),
                hidden.dim(0), promptTokens, options.maxNewTokens(), frontEnd, encoderByBatch, best, projector, ttft,
                decode, ProcessMemory.peakRssBytes(), ProcessMemory.deviceBytes(model.provider()));
    }

    private static float[] repeat(float[] window, int times) {
        float[] full = Arrays.copyOf(window, FeatureExtractor.WINDOW_SAMPLES); // zero-padded to 30 s like the extractor
        float[] out = new float[full.length * times];
        for (int i = 0; i < times; i++) System.arraycopy(full, 0, out, i * full.length, full.length);
        return out;
    }

    /** Timed values of one figure. */
    public static final class Samples {
        private final String name;
        private final List<Double> values = new ArrayList<>();

        Samples(String name) {
            this.name = name;
        }

        void add(double v) {
            values.add(v);
        }

        public String name() {
            return name;
        }

        public List<Double> values() {
            return List.copyOf(values);
        }

        public double median() {
            double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        public double min() {
            return values.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        }

        public double max() {
            return values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        }
    }
}
