package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Self-consistency of the reference decoder: cache vs recompute, RoPE identity at 0, hidden-state layout. */
class ReferenceDecoderTest {

    private static ReferenceDecoder model(Path dir, String preset, long seed) throws Exception {
        Qwen2AudioConfig cfg = MakeTiny.write(dir, new MakeTiny.Options(MakeTiny.preset(preset), seed, null, null));
        return new ReferenceDecoder(cfg.text(), MakeTiny.weights(cfg, seed));
    }

    private static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "odd"})
    void cachedStepsEqualFullRecompute(String preset, @TempDir Path dir) throws Exception {
        ReferenceDecoder ref = model(dir, preset, 21);
        int v = ref.config().vocabSize(), h = ref.config().hiddenSize();
        int[] seq = tokens(10, v, 1);
        ReferenceDecoder.KvCache cache = ref.newCache();
        float[] logits = ref.step(ref.embed(Arrays.copyOf(seq, 6)), 6, cache);
        assertEquals(6, cache.length());
        double worst = Parity.relError(ref.forward(ref.embed(Arrays.copyOf(seq, 6)), 6).lastLogits(), logits);
        for (int n = 6; n < 10; n++) {
            logits = ref.step(ref.embed(new int[] {seq[n]}), 1, cache);
            float[] full = ref.forward(ref.embed(Arrays.copyOf(seq, n + 1)), n + 1).lastLogits();
            worst = Math.max(worst, Parity.relError(full, logits));
        }
        assertEquals(10, cache.length());
        System.out.printf("[%s] reference cache vs recompute rel err %.3e%n", preset, worst);
        // measured 0: the cached path repeats the recompute's float operations row by row
        assertTrue(worst <= 1e-6, "cache vs recompute rel err " + worst);
        assertEquals(h * 3, ref.embed(new int[] {1, 2, 3}).length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "odd"})
    void hiddenStatesFollowTransformersLayout(String preset, @TempDir Path dir) throws Exception {
        ReferenceDecoder ref = model(dir, preset, 22);
        int s = 5, h = ref.config().hiddenSize(), layers = ref.config().numHiddenLayers();
        float[] x = ref.embed(tokens(s, ref.config().vocabSize(), 2));
        ReferenceDecoder.Output out = ref.forward(x, s);
        assertEquals(layers + 1, out.hiddenStates().length);
        assertArrayEquals(x, out.hiddenStates()[0]);
        // The last entry is after the final norm: every row has RMS ~ mean |norm weight| scale, not the raw residual.
        float[] last = out.hiddenStates()[layers];
        for (int r = 0; r < s; r++) {
            double ss = 0;
            for (int i = 0; i < h; i++) ss += last[r * h + i] * last[r * h + i];
            double rms = Math.sqrt(ss / h);
            assertTrue(rms > 0.8 && rms < 1.2, "row " + r + " rms " + rms);
        }
        assertEquals(ref.config().vocabSize(), out.lastLogits().length);
        assertNotEquals(0f, out.lastLogits()[0]);
    }

    @Test
    void ropeAtPositionZeroIsIdentityAndRotatesOtherwise() {
        int d = 16;
        float[] inv = TextMath.invFreq(d, 10000);
        assertEquals(1f, inv[0]);
        float[] x = new float[d];
        for (int i = 0; i < d; i++) x[i] = i - 7.5f;
        float[] y = x.clone();
        TextMath.rope(y, 0, d, 0, inv);
        assertArrayEquals(x, y);
        float[] z = x.clone();
        TextMath.rope(z, 0, d, 3, inv);
        // rotation keeps each (i, i + D/2) pair's norm and changes the vector
        for (int i = 0; i < d / 2; i++) {
            double n0 = Math.hypot(x[i], x[i + d / 2]), n1 = Math.hypot(z[i], z[i + d / 2]);
            assertEquals(n0, n1, 1e-5);
        }
        assertNotEquals(x[0], z[0]);
        // position 3, pair 0 (inv_freq 1): angle 3 rad; x1' = x1 cos - x2 sin
        assertEquals(x[0] * Math.cos(3) - x[8] * Math.sin(3), z[0], 1e-5);
    }

    @Test
    void greedyStopsOnStopId(@TempDir Path dir) throws Exception {
        ReferenceDecoder ref = model(dir, "tiny", 23);
        float[] x = ref.embed(tokens(4, ref.config().vocabSize(), 3));
        int[] free = ref.greedy(x, 4, 6, new int[0]);
        assertEquals(6, free.length);
        int[] stopped = ref.greedy(x, 4, 6, new int[] {free[2]});
        int firstStop = 0;
        while (free[firstStop] != free[2]) firstStop++;
        assertArrayEquals(Arrays.copyOf(free, firstStop + 1), stopped);
    }
}
