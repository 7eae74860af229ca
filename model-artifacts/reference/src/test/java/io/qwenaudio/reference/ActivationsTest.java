package io.qwenaudio.reference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Exact (erf) GELU and SiLU at values known in closed form. */
class ActivationsTest {

    @Test
    void geluIsTheExactErfForm() {
        // gelu(x) = x * Phi(x); Phi(1) = 0.841344746068542948..., Phi(2) = 0.977249868051820792..., Phi(-1) = 1 - Phi(1)
        float[] y = AudioMath.geluInPlace(new float[] {1, 2, -1, 0, -8, 8});
        assertEquals(0.8413447460685429, y[0], 1e-7);
        assertEquals(2 * 0.9772498680518208, y[1], 1e-7);
        assertEquals(-(1 - 0.8413447460685429), y[2], 1e-7);
        assertEquals(0, y[3], 0);
        assertEquals(-8 * 6.22096057427178e-16, y[4], 1e-12); // Phi(-8)
        assertEquals(8, y[5], 1e-6);
        // the tanh approximation differs by ~1e-4 around |x| = 2: make sure that is not what runs
        double tanhApprox = 0.5 * 2 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (2 + 0.044715 * 8)));
        assertEquals(true, Math.abs(tanhApprox - y[1]) > 1e-5);
    }

    @Test
    void siluIsXTimesSigmoid() {
        assertEquals(1 / (1 + Math.exp(-1)), TextMath.silu(1), 1e-7);
        assertEquals(-2 / (1 + Math.exp(2)), TextMath.silu(-2), 1e-7);
    }
}
