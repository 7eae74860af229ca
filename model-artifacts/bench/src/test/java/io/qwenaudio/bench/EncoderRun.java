package io.qwenaudio.bench;

import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One audio encoder in its own process: one full 30 s window (3000 mel frames) at batch 1, one warm-up call and
 * {@code windows} timed calls; writes the hidden states {@code [750, d]} to {@code OUT.npy} (for a cross-check
 * between op sets) and prints the median seconds per window and the resident memory as a {@link Bench#RESULT} line.
 *
 * <p>Arguments: {@code ARTIFACTS WINDOWS THREADS OUT.npy}.
 */
public final class EncoderRun {

    private EncoderRun() {
    }

    public static void main(String[] args) throws Exception {
        Path art = Path.of(args[0]);
        int windows = Integer.parseInt(args[1]), threads = Integer.parseInt(args[2]);
        Features f = window30s(7);
        ModelArtifacts m = ModelArtifacts.open(art, RuntimeOptions.defaults().withVerifyChecksums(false).withWarmup(false)
                .withIntraOpThreads(threads));
        try (AudioEncoder enc = m.encoder(AudioEncoder.Batching.none(), null)) {
            FloatTensor first = enc.encode(f);                                                  // warm-up, [750, d]
            double[] seconds = new double[windows];
            for (int i = 0; i < windows; i++) {
                long t0 = System.nanoTime();
                enc.encode(f);
                seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("seconds_per_window", Bench.median(seconds));
            r.put("windows_per_second", 1 / Bench.median(seconds));
            Npy.write(Path.of(args[3]), first.data(), first.dim(0), first.dim(1));
            r.put("rss_mib", Bench.procStatusMiB("VmRSS"));
            r.put("hwm_mib", Bench.procStatusMiB("VmHWM"));
            Bench.result(r);
        }
    }

    /** 30 s of speech-like 16 kHz audio (a gliding harmonic tone with a syllable-rate envelope over noise): one full window. */
    static Features window30s(long seed) {
        int n = FeatureExtractor.WINDOW_SAMPLES;
        float[] x = new float[n];
        SplittableRandom rnd = new SplittableRandom(seed);
        double phase = 0, lowpass = 0;
        for (int i = 0; i < n; i++) {
            double t = i / (double) FeatureExtractor.SAMPLE_RATE;
            double f0 = 120 + 80 * Math.sin(2 * Math.PI * 0.25 * t) + 2000 * (t / 30.0);
            phase += 2 * Math.PI * f0 / FeatureExtractor.SAMPLE_RATE;
            double envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
            lowpass = 0.97 * lowpass + 0.03 * rnd.nextGaussian();
            x[i] = (float) (0.2 * envelope * (Math.sin(phase) + 0.5 * Math.sin(2 * phase)) + 0.3 * lowpass);
        }
        Features f = FeatureExtractor.extract(x);
        if (f.windows() != 1 || f.melLength(0) != FeatureExtractor.FRAMES) {
            throw new IllegalStateException("expected one full window, found " + f.windows() + " windows");
        }
        return f;
    }
}
