package io.qwenaudio.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** {@link Sampler} on known logits: the support of top-k / top-p, temperature, the repetition penalty, seeding. */
class SamplerTest {

    static GenerationOptions sampling(double t, int k, double p, long seed) {
        return new GenerationOptions(16, true, t, k, p, 1.0, seed, List.of(), List.of());
    }

    static Set<Integer> drawn(GenerationOptions o, float[] logits, int draws, int[] counts) {
        Sampler s = new Sampler(o);
        Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < draws; i++) {
            int id = s.next(logits.clone());
            seen.add(id);
            if (counts != null) counts[id]++;
        }
        return seen;
    }

    static float[] logProbs(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) l[i] = (float) Math.log(p[i]);
        return l;
    }

    @Test
    void topKDrawsOnlyTheKMostLikelyIds() {
        float[] logits = new float[50];
        for (int i = 0; i < 50; i++) logits[i] = (float) (((i * 37) % 50) * 0.1); // distinct, shuffled
        int[] found = {};
        for (int i = 0; i < 50; i++) if (logits[i] >= 4.5f - 1e-6f) found = append(found, i);
        int[] top5 = found;
        assertEquals(5, top5.length);
        Set<Integer> got = drawn(sampling(1.0, 5, 1.0, 1), logits, 20_000, null);
        assertEquals(ids(top5), got);
        double[] d = new Sampler(sampling(1.0, 5, 1.0, 1)).distribution(logits);
        double sum = 0;
        for (int id : top5) sum += Math.exp(logits[id]);
        for (int i = 0; i < 50; i++) {
            int id = i;
            boolean in = Arrays.stream(top5).anyMatch(x -> x == id);
            assertEquals(in ? Math.exp(logits[i]) / sum : 0, d[i], 1e-9, "id " + i);
        }
    }

    @Test
    void topKKeepsTiesAtTheKthValue() {
        assertEquals(Set.of(0, 1, 2), drawn(sampling(1.0, 1, 1.0, 3), new float[] {1, 1, 1, 0}, 3000, null));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] logits = logProbs(0.1, 0.4, 0.2, 0.3);                 // sorted: 1 (0.4), 3 (0.3), 2 (0.2), 0 (0.1)
        // 0.65: id 1 (mass before 0), id 3 (before 0.4 < 0.65), id 2 removed (before 0.7 >= 0.65)
        int[] counts = new int[4];
        assertEquals(Set.of(1, 3), drawn(sampling(1.0, 0, 0.65, 5), logits, 20_000, counts));
        assertEquals(4.0 / 7, counts[1] / 20_000.0, 0.015);
        double[] d = new Sampler(sampling(1.0, 0, 0.65, 5)).distribution(logits);
        assertArrayEquals(new double[] {0, 4.0 / 7, 0, 3.0 / 7}, d, 1e-6);
        // exactly 0.7 is reached by ids 1 + 3, so id 2 is still removed; 0.71 needs it
        assertEquals(Set.of(1, 3, 2), drawn(sampling(1.0, 0, 0.71, 5), logits, 20_000, null));
        assertEquals(Set.of(1), drawn(sampling(1.0, 0, 0.1, 5), logits, 2000, null));   // the top id is always kept
        assertEquals(Set.of(0, 1, 2, 3), drawn(sampling(1.0, 0, 1.0, 5), logits, 20_000, null));
    }

    @Test
    void topPAppliesToTheTopKDistribution() {
        float[] logits = logProbs(0.35, 0.3, 0.25, 0.1);
        // top-k 2 renormalises to 0.538 / 0.462; top-p 0.5 then keeps only id 0
        assertEquals(Set.of(0), drawn(sampling(1.0, 2, 0.5, 9), logits, 5000, null));
        assertEquals(Set.of(0, 1), drawn(sampling(1.0, 2, 0.6, 9), logits, 5000, null));
    }

    @Test
    void temperatureScalesTheLogits() {
        float[] logits = {2.0f, 1.0f, 0.0f, -1.0f};
        for (double t : new double[] {0.5, 1.0, 3.0}) {
            double[] d = new Sampler(sampling(t, 0, 1.0, 1)).distribution(logits);
            double z = 0;
            for (float l : logits) z += Math.exp(l / t);
            for (int i = 0; i < 4; i++) assertEquals(Math.exp(logits[i] / t) / z, d[i], 1e-6);
        }
        // temperature 0 is greedy
        assertArrayEquals(new double[] {1, 0, 0, 0}, new Sampler(sampling(0, 0, 1.0, 1)).distribution(logits));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = {1.0f, -1.0f, 0.8f, 0.2f};
        BitSet seen = new BitSet();
        seen.set(0);
        seen.set(1);
        float[] x = logits.clone();
        Sampler.applyRepetitionPenalty(x, seen, 2.0);
        assertArrayEquals(new float[] {0.5f, -2.0f, 0.8f, 0.2f}, x);
        x = logits.clone();
        Sampler.applyRepetitionPenalty(x, seen, 0.5);               // < 1 favours repeats
        assertArrayEquals(new float[] {2.0f, -0.5f, 0.8f, 0.2f}, x);
        GenerationOptions greedy = new GenerationOptions(4, false, 1, 0, 1, 2.0, null, List.of(), List.of());
        Sampler s = new Sampler(greedy);
        assertEquals(0, s.next(logits.clone()));                    // nothing seen yet
        s.observe(0, 0, 1);                                          // duplicates count once
        assertEquals(2, s.next(logits.clone()));
    }

    @Test
    void seedsMakeDrawsReproducible() {
        float[] logits = new float[100];
        for (int i = 0; i < 100; i++) logits[i] = (float) Math.sin(i);
        int[] a = draws(sampling(1.0, 0, 1.0, 42), logits), b = draws(sampling(1.0, 0, 1.0, 42), logits);
        int[] c = draws(sampling(1.0, 0, 1.0, 43), logits);
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
    }

    @Test
    void greedyTakesTheFirstMaximum() {
        assertEquals(1, Sampler.argmax(new float[] {0, 3, 3, 1}));
    }

    static int[] draws(GenerationOptions o, float[] logits) {
        Sampler s = new Sampler(o);
        int[] out = new int[100];
        for (int i = 0; i < out.length; i++) out[i] = s.next(logits.clone());
        return out;
    }

    static int[] append(int[] a, int v) {
        int[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = v;
        return b;
    }

    static Set<Integer> ids(int[] a) {
        Set<Integer> s = new TreeSet<>();
        for (int x : a) s.add(x);
        return s;
    }
}
