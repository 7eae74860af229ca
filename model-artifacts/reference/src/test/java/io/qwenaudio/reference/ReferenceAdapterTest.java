package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The domain adapter reference: positional encoding, gate paths, output composition. */
class ReferenceAdapterTest {

    static DomainAdapterConfig config(int d, int layers, int heads, int ff, String act, boolean normFirst, String pe,
                                      boolean useGate, String gateType) {
        return new DomainAdapterConfig("lightweight", d, layers, heads, ff, 0.1, act, normFirst, 1e-5, pe, useGate,
                gateType, 0.1, "ldv");
    }

    static InMemoryTensorSource weights(DomainAdapterConfig c, long seed) {
        InMemoryTensorSource w = new InMemoryTensorSource();
        for (Map.Entry<String, long[]> e : DomainAdapterWeights.expectedShapes(c).entrySet()) {
            long[] s = e.getValue();
            int n = 1;
            for (long x : s) n *= (int) x;
            String name = e.getKey();
            float[] data;
            if (name.equals("scale")) data = new float[] {0.3f};
            else if (name.contains("norm") && name.endsWith("weight")) {
                data = TinyModels.gaussian(n, 0.05, seed + name.hashCode());
                for (int i = 0; i < n; i++) data[i] += 1;
            } else data = TinyModels.gaussian(n, 0.5 / Math.sqrt(s.length > 1 ? s[1] : 16), seed + name.hashCode());
            w.put(name, data, s);
        }
        return w;
    }

    @Test
    void sinusoidalEncodingIsInterleaved() {
        int d = 8;
        float[] pe = ReferenceAdapter.sinusoidalPe(4, d);
        for (int t = 0; t < 4; t++) {
            for (int i = 0; i < d / 2; i++) {
                double w = Math.pow(10000, -2.0 * i / d);
                assertEquals(Math.sin(t * w), pe[t * d + 2 * i], 1e-6, "pe[" + t + ", " + 2 * i + "]");
                assertEquals(Math.cos(t * w), pe[t * d + 2 * i + 1], 1e-6, "pe[" + t + ", " + (2 * i + 1) + "]");
            }
        }
        assertEquals(Math.sin(0.3), pe[3 * d + 2], 1e-6); // t 3, i 1: w = 10000^(-1/4) = 0.1
    }

    @Test
    void withoutGateTheGateIsOneAndOutputIsXPlusScaleDelta() {
        DomainAdapterConfig c = config(32, 1, 4, 48, "gelu", true, "sinusoidal", false, "scalar");
        InMemoryTensorSource w = weights(c, 1);
        int n = 7, d = 32;
        float[] x = TinyModels.gaussian(n * d, 1, 2);
        ReferenceAdapter.Result r = new ReferenceAdapter(c, w).forward(x, n);
        assertEquals(n, r.gate().length);
        for (float g : r.gate()) assertEquals(1f, g);
        for (int i = 0; i < n * d; i++) assertEquals(x[i] + 0.3f * r.delta()[i], r.out()[i], 1e-6);
        // delta is LayerNorm output: zero mean per row
        for (int t = 0; t < n; t++) {
            double mean = 0;
            for (int i = 0; i < d; i++) mean += r.delta()[t * d + i];
            assertTrue(Math.abs(mean / d) < 0.2, "row mean " + mean / d);
        }
    }

    @Test
    void gateIsSigmoidOfTheInputNotOfTheLayers() {
        int n = 5, d = 16;
        for (String type : new String[] {"scalar", "channel"}) {
            DomainAdapterConfig c = config(d, 2, 2, 24, "relu", false, "none", true, type);
            InMemoryTensorSource w = weights(c, 3);
            float[] x = TinyModels.gaussian(n * d, 1, 4);
            ReferenceAdapter.Result r = new ReferenceAdapter(c, w).forward(x, n);
            int gw = type.equals("channel") ? d : 1;
            assertEquals(n * gw, r.gate().length);
            float[] gwt = w.floats("gate.weight"), gb = w.floats("gate.bias");
            for (int t = 0; t < n; t++) {
                for (int o = 0; o < gw; o++) {
                    double z = gb[o];
                    for (int i = 0; i < d; i++) z += (double) x[t * d + i] * gwt[o * d + i];
                    assertEquals(1 / (1 + Math.exp(-z)), r.gate()[t * gw + o], 1e-6);
                }
                for (int i = 0; i < d; i++) {
                    float g = r.gate()[t * gw + (gw == 1 ? 0 : i)];
                    assertEquals(x[t * d + i] + 0.3f * g * r.delta()[t * d + i], r.out()[t * d + i], 1e-6);
                }
            }
        }
    }

    @Test
    void positionalEncodingNoneDiffersFromSinusoidal() {
        int n = 6, d = 16;
        DomainAdapterConfig pe = config(d, 1, 2, 24, "gelu", true, "sinusoidal", true, "scalar");
        DomainAdapterConfig none = config(d, 1, 2, 24, "gelu", true, "none", true, "scalar");
        InMemoryTensorSource w = weights(pe, 9);
        float[] x = TinyModels.gaussian(n * d, 1, 10);
        ReferenceAdapter.Result a = new ReferenceAdapter(pe, w).forward(x, n), b = new ReferenceAdapter(none, w).forward(x, n);
        assertArrayEquals(a.gate(), b.gate()); // the gate reads x, not x + PE
        assertTrue(TinyModels.maxAbsDiff(a.delta(), b.delta()) > 1e-3);
    }
}
