package io.qwenaudio.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Sampler} on logits a broken model (or out-of-range input) can produce: NaN and +Infinity fail with the
 * first bad vocabulary id (greedy and sampling alike, where an ArrayIndexOutOfBoundsException came before);
 * -Infinity is a masked id; extreme temperatures and penalties stay finite.
 */
class NonFiniteLogitsTest {

    static GenerationOptions sampling(double t, int k, double p, double penalty) {
        return new GenerationOptions(16, true, t, k, p, penalty, 1L, List.of(), List.of());
    }

    static final GenerationOptions GREEDY = new GenerationOptions(16, false, 1.0, 0, 1.0, 1.0, 1L, List.of(), List.of());

    @Test
    void nanOrPlusInfinityFailsNamingTheFirstBadId() {
        for (GenerationOptions o : List.of(GREEDY, sampling(1.0, 0, 1.0, 1.0), sampling(0.7, 5, 0.9, 1.1))) {
            float[] nan = {0.5f, 1f, Float.NaN, 2f, Float.NaN};
            NonFiniteLogitsException e = assertThrows(NonFiniteLogitsException.class, () -> new Sampler(o).next(nan));
            assertTrue(e.getMessage().startsWith("the model produced non-finite logits (NaN at vocabulary id 2 of 5)"),
                    e.getMessage());
            float[] allNan = new float[100];
            Arrays.fill(allNan, Float.NaN);
            e = assertThrows(NonFiniteLogitsException.class, () -> new Sampler(o).next(allNan));
            assertTrue(e.getMessage().contains("NaN at vocabulary id 0 of 100"), e.getMessage());
            float[] inf = {0.5f, Float.POSITIVE_INFINITY, 1f};
            e = assertThrows(NonFiniteLogitsException.class, () -> new Sampler(o).next(inf));
            assertTrue(e.getMessage().contains("Infinity at vocabulary id 1 of 3"), e.getMessage());
            assertThrows(NonFiniteLogitsException.class, () -> new Sampler(o).distribution(nan));
        }
    }

    @Test
    void allMinusInfinityFailsButSomeMaskedIdsAreFine() {
        float[] none = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        NonFiniteLogitsException e = assertThrows(NonFiniteLogitsException.class,
                () -> new Sampler(sampling(1.0, 0, 1.0, 1.0)).next(none));
        assertEquals("the model produced logits that are -Infinity for all 2 vocabulary ids: no token can be chosen",
                e.getMessage());
        float[] masked = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 1f};
        double[] d = new Sampler(sampling(1.0, 0, 1.0, 1.0)).distribution(masked);
        assertEquals(0, d[0]);
        assertEquals(0, d[2]);
        assertEquals(1 / (1 + Math.E), d[1], 1e-9);
        assertEquals(3, new Sampler(GREEDY).next(masked.clone()));
    }

    @Test
    void tinyTemperatureIsNearlyGreedyInsteadOfNaN() {
        // 1e-300 is > 0, so it samples; as a float it was 0 and logits / 0 gave Infinity and NaN probabilities
        float[] logits = {0.1f, 3f, 2.9f, -1f};
        Sampler s = new Sampler(sampling(1e-300, 0, 1.0, 1.0));
        for (int i = 0; i < 50; i++) assertEquals(1, s.next(logits.clone()));
        double[] d = new Sampler(sampling(1e-300, 0, 1.0, 1.0)).distribution(logits);
        assertEquals(1.0, d[1]);
    }

    @Test
    void extremeRepetitionPenaltiesStayFinite() {
        float[] logits = {2f, 1f, -1f};
        Sampler tiny = new Sampler(sampling(1.0, 0, 1.0, 1e-300));   // 2 / 1e-300 would be +Infinity
        tiny.observe(0, 2);
        double[] d = tiny.distribution(logits);
        assertEquals(1.0, d[0], 1e-12);
        Sampler huge = new Sampler(sampling(1.0, 0, 1.0, 1e300));    // -1 * 1e300 would be -Infinity
        huge.observe(0, 1, 2);
        d = huge.distribution(logits);
        double sum = 0;
        for (double x : d) {
            assertTrue(Double.isFinite(x));
            sum += x;
        }
        assertEquals(1.0, sum, 1e-9);
        huge.next(logits.clone());
    }
}
