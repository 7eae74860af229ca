package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;

import java.util.SplittableRandom;

/** Small seeded models for the reference tests, built in memory (no files, no tokenizer). */
final class TinyModels {

    static final int AUDIO_TOKEN = 297;

    private TinyModels() {
    }

    /** Odd sizes: audio d 48, 3 heads, ffn 80, 2 layers; text hidden 96, 6 heads over 2 KV heads, 3 layers. */
    static Qwen2AudioConfig odd() {
        return config(new AudioEncoderConfig(48, 2, 3, 80, 128, 1500, "gelu", false),
                new TextConfig(300, 96, 160, 3, 6, 2, 16, "silu", 2048, 1e-5, 10000.0, false, null, null));
    }

    /** Even sizes: audio d 64, 4 heads, ffn 128, 2 layers; text hidden 64, 4 heads over 4 KV heads, 2 layers. */
    static Qwen2AudioConfig even() {
        return config(new AudioEncoderConfig(64, 2, 4, 128, 128, 1500, "gelu", false),
                new TextConfig(300, 64, 128, 2, 4, 4, 16, "silu", 2048, 1e-6, 1000000.0, false, null, null));
    }

    private static Qwen2AudioConfig config(AudioEncoderConfig a, TextConfig t) {
        return new Qwen2AudioConfig(Qwen2AudioConfig.MODEL_TYPE, a, t, AUDIO_TOKEN, "{}");
    }

    /** Every weight of the model (canonical names), seeded, materialised in memory. */
    static InMemoryTensorSource weights(Qwen2AudioConfig cfg, long seed) {
        TensorSource lazy = MakeTiny.weights(cfg, seed);
        InMemoryTensorSource m = new InMemoryTensorSource();
        for (String n : lazy.names()) m.put(n, lazy.floats(n), lazy.shape(n));
        return m;
    }

    /** Log-mel-like features [mels, 3000]: Gaussian in the first {@code melLength} frames, -1.5 after (silence). */
    static float[] features(int mels, int melLength, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[mels * 3000];
        for (int m = 0; m < mels; m++) {
            for (int t = 0; t < 3000; t++) f[m * 3000 + t] = t < melLength ? (float) (0.6 * r.nextGaussian()) : -1.5f;
        }
        return f;
    }

    static float[] gaussian(int n, double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (std * r.nextGaussian());
        return x;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
