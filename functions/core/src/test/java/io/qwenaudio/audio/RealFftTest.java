package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jtransforms.fft.DoubleFFT_1D;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link RealFft} against JTransforms' {@code DoubleFFT_1D.realForward} (same packed layout). */
class RealFftTest {

    @ParameterizedTest
    @ValueSource(ints = {400, 4, 6, 10, 12, 30, 64, 160, 200, 480, 512, 1000})
    void matchesJTransforms(int n) {
        RealFft mine = new RealFft(n);
        DoubleFFT_1D ref = new DoubleFFT_1D(n);
        Random rnd = new Random(n);
        for (int trial = 0; trial < 20; trial++) {
            double[] a = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = rnd.nextGaussian();
            }
            double[] b = a.clone();
            double[] c = a.clone();
            mine.realForward(a);
            ref.realForward(b);
            double max = 0;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, Math.abs(a[i] - b[i]));
            }
            assertTrue(max < 1e-11 * n, "n=" + n + " max abs difference " + max);
            double[] power = new double[n / 2 + 1];
            mine.powerSpectrumOfFloat32(c, power);
            for (int k = 0; k <= n / 2; k++) {
                double re = k == 0 ? b[0] : k == n / 2 ? b[1] : b[2 * k];
                double im = k == 0 || k == n / 2 ? 0 : b[2 * k + 1];
                double want = (double) (float) re * (float) re + (double) (float) im * (float) im;
                assertEquals(want, power[k], 1e-9 * (1 + want), "power bin " + k);
            }
        }
    }
}
