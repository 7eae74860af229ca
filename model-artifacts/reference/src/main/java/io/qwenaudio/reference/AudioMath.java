package io.qwenaudio.reference;

import java.util.stream.IntStream;


/**
 * Plain-array math for the audio-side reference forwards (encoder, projector, domain adapter): linear layers,
 * LayerNorm, exact GELU, softmax, attention. Accumulates in double so the reference is a trustworthy yardstick.
 */
final class AudioMath {

    private AudioMath() {
    }

    /** y[n, out] = x[n, in] W[out, in]^T (+ b[out]); b may be null. */
    static float[] linear(float[] x, int n, float[] w, float[] b, int in, int out) {
        float[] y = new float[n * out]; // [n, out]
        // rows are independent: split them over the common pool when the product is large enough to pay off
        IntStream rows = IntStream.range(0, n);
        if ((long) n * in * out > 1 << 20) rows = rows.parallel();
        rows.forEach(r -> {
            int xo = r * in;
            for (int o = 0; o < out; o++) {
                int wo = o * in;
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += (double) x[xo + i] * w[wo + i];
                y[r * out + o] = (float) s;
            }
        });
        return y;
    }

    /** LayerNorm over the last axis of x[n, d] (biased variance, as PyTorch). */
    static float[] layerNorm(float[] x, int n, int d, float[] gamma, float[] beta, double eps) {
        float[] y = new float[n * d]; // [n, d]
        for (int r = 0; r < n; r++) {
            int o = r * d;
            double mean = 0;
            for (int i = 0; i < d; i++) mean += x[o + i];
            mean /= d;
            double var = 0;
            for (int i = 0; i < d; i++) {
                double c = x[o + i] - mean;
                var += c * c;
            }
            var /= d;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < d; i++) y[o + i] = (float) ((x[o + i] - mean) * inv * gamma[i] + beta[i]);
        }
        return y;
    }

    /** Exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)), in place. */
    static float[] geluInPlace(float[] x) {
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2))));
        return x;
    }

    static float[] reluInPlace(float[] x) {
        for (int i = 0; i < x.length; i++) x[i] = Math.max(0f, x[i]);
        return x;
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** a += b elementwise. */
    static void addInPlace(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }

    /**
     * Multi-head attention over already projected q, k, v [n, heads*hd]; q is already scaled. Keys at positions
     * {@code >= validKeys} are masked for every query. Returns the concatenated heads [n, heads*hd].
     */
    static float[] attention(float[] q, float[] k, float[] v, int n, int heads, int hd, int validKeys) {
        int d = heads * hd;
        float[] out = new float[n * d]; // [n, d]
        double[] p = new double[validKeys];
        for (int h = 0; h < heads; h++) {
            int ho = h * hd;
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < validKeys; j++) {
                    double s = 0;
                    for (int c = 0; c < hd; c++) s += (double) q[i * d + ho + c] * k[j * d + ho + c];
                    p[j] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int j = 0; j < validKeys; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int c = 0; c < hd; c++) {
                    double acc = 0;
                    for (int j = 0; j < validKeys; j++) acc += p[j] * v[j * d + ho + c];
                    out[i * d + ho + c] = (float) (acc / sum);
                }
            }
        }
        return out;
    }

    /**
     * erf in double precision (absolute error below 1e-15): Taylor series for |x| < 2.5, continued fraction of
     * erfc beyond; hand-written because the JDK has no erf.
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else if (ax > 6) {
            r = 1;
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))) (Lentz, backwards)
            double f = 0;
            for (int k = 120; k >= 1; k--) f = (k / 2.0) / (ax + f);
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }
}
