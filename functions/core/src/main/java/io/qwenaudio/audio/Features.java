package io.qwenaudio.audio;

import java.util.Arrays;
import java.util.List;

/**
 * Whisper log-mel features of one clip: one [128, 3000] float32 window per 30 s of audio (mel-major, row-major),
 * with the number of frames that hold real samples in each window (for {@code feature_attention_mask}).
 */
public final class Features {

    private final List<float[]> windows;
    private final int[] melLengths;
    private final long numSamples;

    Features(List<float[]> windows, int[] melLengths, long numSamples) {
        this.windows = List.copyOf(windows);
        this.melLengths = melLengths.clone();
        this.numSamples = numSamples;
    }

    /** Number of 30 s windows (at least 1). */
    public int windows() {
        return windows.size();
    }

    /** Window {@code w}: [128 * 3000] floats, element (mel m, frame t) at {@code m * 3000 + t}. Not copied. */
    public float[] window(int w) {
        return windows.get(w);
    }

    /** Frames of window {@code w} that hold real samples: ceil(samples in window / 160), at most 3000. */
    public int melLength(int w) {
        return melLengths[w];
    }

    /** {@code feature_attention_mask} of window {@code w}: 3000 values, 1 for the first melLength(w) frames. */
    public int[] mask(int w) {
        int[] m = new int[FeatureExtractor.FRAMES];
        Arrays.fill(m, 0, melLengths[w], 1);
        return m;
    }

    /** Audio samples at 16 kHz across all windows (before padding). */
    public long numSamples() {
        return numSamples;
    }

    public double durationSeconds() {
        return numSamples / (double) FeatureExtractor.SAMPLE_RATE;
    }
}
