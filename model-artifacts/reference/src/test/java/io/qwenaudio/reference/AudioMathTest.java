package io.qwenaudio.reference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AudioMathTest {

    /** erf against Simpson integration of 2/sqrt(pi) exp(-t^2) over [0, x] (error of the integral ~1e-14). */
    @Test
    void erfMatchesNumericalIntegralTo1e12() {
        for (double x = -6; x <= 6.0001; x += 0.0625) {
            assertEquals(integratedErf(x), AudioMath.erf(x), 1e-12, "erf(" + x + ")");
        }
        for (double x : new double[] {1e-8, 1e-3, 0.3333, 2.4999, 2.5, 2.5001, 5.999, 7, 30}) {
            assertEquals(integratedErf(Math.min(x, 8)), AudioMath.erf(x), 1e-12, "erf(" + x + ")");
        }
    }

    @Test
    void erfKnownValues() {
        assertEquals(0.8427007929497148693, AudioMath.erf(1), 1e-15); // Abramowitz & Stegun table 7.1
        assertEquals(0.9953222650189527342, AudioMath.erf(2), 1e-15);
        assertEquals(0.0, AudioMath.erf(0), 0);
    }

    @Test
    void layerNormAndAttentionBasics() {
        float[] y = AudioMath.layerNorm(new float[] {1, 2, 3, 4}, 1, 4, new float[] {1, 1, 1, 1}, new float[] {0, 0, 0, 0}, 0);
        double inv = 1 / Math.sqrt(1.25);
        assertEquals(-1.5 * inv, y[0], 1e-6);
        assertEquals(1.5 * inv, y[3], 1e-6);
        // one head, two keys but only the first valid: the output is v of key 0 for every query
        float[] q = {1, 0, 0, 1}, k = {1, 0, 0, 1}, v = {5, 6, 7, 8};
        float[] out = AudioMath.attention(q, k, v, 2, 1, 2, 1);
        assertEquals(5, out[0], 0);
        assertEquals(6, out[3], 0);
    }

    private static double integratedErf(double x) {
        int n = 40000; // even
        double h = x / n, s = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
        return s * h / 3 * 2 / Math.sqrt(Math.PI);
    }
}
