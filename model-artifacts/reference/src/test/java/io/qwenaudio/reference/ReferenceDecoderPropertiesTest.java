package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Causality, cache equivalence over several chunks, logits layout and RMSNorm of the reference decoder. */
class ReferenceDecoderPropertiesTest {

    private static Qwen2AudioConfig config(String name) {
        return name.equals("odd") ? TinyModels.odd() : TinyModels.even();
    }

    @ParameterizedTest
    @ValueSource(strings = {"odd", "even"})
    void futurePositionsDoNotChangeEarlierHiddenStates(String name) {
        Qwen2AudioConfig cfg = config(name);
        ReferenceDecoder dec = new ReferenceDecoder(cfg.text(), TinyModels.weights(cfg, 5));
        int h = cfg.text().hiddenSize(), s = 9, keep = 5;
        float[] x = TinyModels.gaussian(s * h, 0.5, 1);
        float[] y = x.clone();
        for (int i = keep * h; i < s * h; i++) y[i] = -2 * x[i] + 1;
        ReferenceDecoder.Output a = dec.forward(x, s), b = dec.forward(y, s);
        for (int l = 0; l <= cfg.text().numHiddenLayers(); l++) {
            assertArrayEquals(Arrays.copyOf(a.hiddenStates()[l], keep * h), Arrays.copyOf(b.hiddenStates()[l], keep * h),
                    "hidden state " + l + " of the first " + keep + " positions");
            if (l > 0) {
                assertTrue(TinyModels.maxAbsDiff(a.hiddenStates()[l], b.hiddenStates()[l]) > 1e-3, "later rows must change");
            }
        }
        int v = cfg.text().vocabSize();
        assertArrayEquals(Arrays.copyOf(a.allLogits(), keep * v), Arrays.copyOf(b.allLogits(), keep * v));
    }

    @ParameterizedTest
    @ValueSource(strings = {"odd", "even"})
    void chunkedCacheStepsEqualFullRecompute(String name) {
        Qwen2AudioConfig cfg = config(name);
        ReferenceDecoder dec = new ReferenceDecoder(cfg.text(), TinyModels.weights(cfg, 6));
        int h = cfg.text().hiddenSize(), v = cfg.text().vocabSize();
        float[] x = TinyModels.gaussian(12 * h, 0.5, 2);
        ReferenceDecoder.Output full = dec.forward(x, 12);
        assertEquals(cfg.text().numHiddenLayers() + 1, full.hiddenStates().length);
        assertEquals(12 * v, full.allLogits().length);
        assertArrayEquals(Arrays.copyOfRange(full.allLogits(), 11 * v, 12 * v), full.lastLogits());

        ReferenceDecoder.KvCache cache = dec.newCache();
        int[] chunks = {4, 3, 1, 1, 3};
        int pos = 0;
        double worst = 0;
        for (int c : chunks) {
            float[] logits = dec.step(Arrays.copyOfRange(x, pos * h, (pos + c) * h), c, cache);
            pos += c;
            assertEquals(pos, cache.length());
            worst = Math.max(worst, TinyModels.maxAbsDiff(logits, Arrays.copyOfRange(full.allLogits(), (pos - 1) * v, pos * v)));
        }
        System.out.printf("[%s] chunked cache vs full recompute: max abs logit diff %.3e%n", name, worst);
        // measured 0: the cached path repeats the recompute's float operations row by row
        assertTrue(worst <= 1e-6, "cache vs recompute " + worst);
    }

    @Test
    void rmsNormOfAKnownVector() {
        // x = [3, 4, 0, 0]: mean(x^2) = 25 / 4, rsqrt(6.25 + eps) = 0.4 (eps 0)
        float[] y = TextMath.rmsNorm(new float[] {3, 4, 0, 0, 1, 1, 1, 1}, 2, 4, new float[] {1, 2, 1, 1}, 0);
        assertArrayEquals(new float[] {1.2f, 3.2f, 0, 0, 1, 2, 1, 1}, y, 1e-6f);
        // eps enters under the root: [1, 1] with eps 3 -> 1 / sqrt(1 + 3) = 0.5
        assertArrayEquals(new float[] {0.5f, 0.5f}, TextMath.rmsNorm(new float[] {1, 1}, 1, 2, new float[] {1, 1}, 3), 1e-7f);
    }

    @Test
    void ropeInverseFrequenciesAreThetaPowers() {
        float[] inv = TextMath.invFreq(16, 10000);
        assertEquals(8, inv.length);
        for (int i = 0; i < 8; i++) assertEquals(Math.pow(10000, -2.0 * i / 16), inv[i], 1e-7 * Math.max(1, inv[i]));
    }

    @Test
    void hiddenStateZeroIsTheInputAndLastIsNormed() {
        Qwen2AudioConfig cfg = TinyModels.odd();
        InMemoryTensorSource w = TinyModels.weights(cfg, 8);
        ReferenceDecoder dec = new ReferenceDecoder(cfg.text(), w);
        int h = cfg.text().hiddenSize(), s = 3, layers = cfg.text().numHiddenLayers();
        float[] x = TinyModels.gaussian(s * h, 0.5, 4);
        ReferenceDecoder.Output o = dec.forward(x, s);
        assertArrayEquals(x, o.hiddenStates()[0]);
        // entry L is after the final RMSNorm: divided by the norm weight, every row has unit RMS
        float[] nw = w.floats("language_model.model.norm.weight");
        float[] last = o.hiddenStates()[layers];
        for (int r = 0; r < s; r++) {
            double ss = 0;
            for (int i = 0; i < h; i++) {
                double u = last[r * h + i] / nw[i];
                ss += u * u;
            }
            assertEquals(1.0, Math.sqrt(ss / h), 1e-3, "row " + r + " of the last hidden state divided by the norm weight");
        }
    }
}
