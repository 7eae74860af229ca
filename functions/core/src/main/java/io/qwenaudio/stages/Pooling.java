package io.qwenaudio.stages;

import java.util.Arrays;
import java.util.Locale;

/** Pooling of hidden states {@code [N, d]} into one embedding {@code [d]}, and L2 normalisation, for {@code embed}. */
public enum Pooling {
    /** No pooling: the hidden states themselves. */
    NONE,
    MEAN,
    MAX;

    /**
     * The pooling a request names (null: mean).
     *
     * @throws StageException 400 naming {@code pooling} for anything else
     */
    public static Pooling parse(String s) {
        if (s == null) return MEAN;
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "mean" -> MEAN;
            case "max" -> MAX;
            default -> throw StageException.badField("pooling", "pooling '" + s + "' is not supported; accepted: none, mean, max");
        };
    }

    /** Mean or max over the rows of {@code [n, d]}: {@code [d]}. */
    public float[] pool(float[] h, int n, int d) {
        float[] out = new float[d];
        if (this == MAX) {
            Arrays.fill(out, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) out[j] = Math.max(out[j], h[i * d + j]);
        } else if (this == MEAN) {
            double[] sum = new double[d];
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) sum[j] += h[i * d + j];
            for (int j = 0; j < d; j++) out[j] = (float) (sum[j] / n);
        } else {
            throw new IllegalStateException("pooling none has no pooled vector");
        }
        return out;
    }

    /** Scales {@code x[off, off + len)} to unit L2 norm (all-zero rows stay zero). */
    public static void l2Normalize(float[] x, int off, int len) {
        double ss = 0;
        for (int i = off; i < off + len; i++) ss += (double) x[i] * x[i];
        if (ss == 0) return;
        float inv = (float) (1 / Math.sqrt(ss));
        for (int i = off; i < off + len; i++) x[i] *= inv;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
