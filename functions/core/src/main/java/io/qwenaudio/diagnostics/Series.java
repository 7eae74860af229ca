package io.qwenaudio.diagnostics;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * A per-token (or per-frame) curve of {@code sourceLength} values, averaged over equal bins down to at most a
 * given number of points: point {@code i} covers source positions
 * {@code [i * sourceLength / n, (i + 1) * sourceLength / n)}. A curve that fits is sent as it is.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Series(int sourceLength, float[] values) {

    public static Series of(float[] src, int maxPoints) {
        if (maxPoints < 1) throw new IllegalArgumentException("maxPoints must be >= 1");
        int n = Math.min(src.length, maxPoints);
        if (n == src.length) return new Series(src.length, src.clone());
        int[] e = HeatMap.bounds(src.length, n);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = e[i]; k < e[i + 1]; k++) s += src[k];
            out[i] = (float) (s / (e[i + 1] - e[i]));
        }
        return new Series(src.length, out);
    }
}
