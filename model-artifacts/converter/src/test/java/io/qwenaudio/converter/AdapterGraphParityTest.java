package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.reference.ReferenceAdapter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static io.qwenaudio.converter.AudioParity.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The domain adapter graph in ONNX Runtime against {@link ReferenceAdapter} over the config variants, in both op sets. */
class AdapterGraphParityTest {

    /**
     * Relative error of the adapter's change and of the gate in float32: measured <= 1.2e-6 (change, standard and
     * fused), <= 2.0e-7 (gate).
     */
    static final double FP32_BOUND = 2e-6;
    /**
     * float16 Linear weights (relative rounding 4.9e-4 per weight) through one or two layers: measured <= 3.7e-4
     * (change) and <= 1.0e-4 (gate) in the standard op set; the bound leaves room for the fused kernels' fp16 paths.
     */
    static final double FP16_BOUND = 5e-3;

    @ParameterizedTest(name = "d={0} L={1} H={2} F={3} {4} normFirst={5} pe={6} gate={7}/{8}")
    @CsvSource({
            "64, 1, 4, 128, gelu, true,  sinusoidal, true,  scalar",
            "64, 2, 4, 96,  relu, false, sinusoidal, true,  channel",
            "48, 2, 3, 80,  gelu, false, none,       true,  scalar",
            "48, 1, 3, 80,  relu, true,  none,       false, scalar",
            "64, 2, 8, 128, gelu, true,  sinusoidal, true,  channel",
            "64, 0, 4, 128, gelu, true,  sinusoidal, false, scalar",
    })
    void matchesReference(int d, int layers, int heads, int ff, String act, boolean normFirst, String pe,
                          boolean useGate, String gateType, @TempDir Path dir) throws Exception {
        for (GraphOps ops : GraphOps.values()) matchesReference(d, layers, heads, ff, act, normFirst, pe, useGate, gateType, ops, dir);
    }

    private static void matchesReference(int d, int layers, int heads, int ff, String act, boolean normFirst, String pe,
                                         boolean useGate, String gateType, GraphOps ops, Path dir) throws Exception {
        DomainAdapterConfig cfg = new DomainAdapterConfig("lightweight", d, layers, heads, ff, 0.1, act, normFirst, 1e-5,
                pe, useGate, gateType, 0.1, "ldv");
        InMemoryTensorSource w = weights(cfg, 21);
        int n = 37;
        float[] x = AudioParity.gaussian(2 * n * d, 1.0, 22); // two sequences of n tokens
        check(cfg, w, x, n, GraphBuilder.WeightType.FLOAT32, ops, FP32_BOUND, dir);
    }

    @ParameterizedTest
    @EnumSource(GraphOps.class)
    void float16WeightsStayWithinBound(GraphOps ops, @TempDir Path dir) throws Exception {
        DomainAdapterConfig cfg = DomainAdapterConfig.preset("standard", 64, "ldv");
        float[] x = AudioParity.gaussian(2 * 50 * 64, 1.0, 23);
        check(cfg, weights(cfg, 24), x, 50, GraphBuilder.WeightType.FLOAT16, ops, FP16_BOUND, dir);
    }

    @ParameterizedTest
    @EnumSource(GraphOps.class)
    void generatedAdapterDirectoryOverAFullWindow(GraphOps ops, @TempDir Path dir) throws Exception {
        DomainAdapterConfig cfg = MakeTiny.writeDomainAdapter(dir.resolve("ldv"), 64, 25);
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir.resolve("ldv"))) {
            w.validate(cfg);
            InMemoryTensorSource copy = new InMemoryTensorSource();
            for (String n : w.names()) copy.put(n, w.floats(n), w.shape(n));
            check(cfg, copy, AudioParity.gaussian(750 * 64, 1.0, 26), 750, GraphBuilder.WeightType.FLOAT32, ops, FP32_BOUND, dir);
        }
    }

    private static void check(DomainAdapterConfig cfg, InMemoryTensorSource w, float[] x, int n, GraphBuilder.WeightType wt,
                              GraphOps ops, double bound, Path dir) throws Exception {
        int d = cfg.inputDim(), batch = x.length / (n * d);
        Path onnx = AudioParity.build(dir, "adapter-" + ops.label(), wt, g -> AdapterGraph.build(g, cfg, w, ops));
        Map<String, float[]> out = AudioParity.run(onnx, Map.of("hidden_states", in(x, batch, n, d)));
        ReferenceAdapter ref = new ReferenceAdapter(cfg, w);
        int gw = cfg.useGate() && cfg.gateType().equals("channel") ? d : 1;
        assertEquals(batch * n * d, out.get("adapted").length);
        assertEquals(batch * n * gw, out.get("gate").length);
        for (int b = 0; b < batch; b++) {
            ReferenceAdapter.Result r = ref.forward(Arrays.copyOfRange(x, b * n * d, (b + 1) * n * d), n);
            // compare the adapter's change x -> out, not out itself, so the residual cannot hide errors
            float[] change = new float[n * d], graphChange = new float[n * d];
            for (int i = 0; i < n * d; i++) {
                change[i] = r.out()[i] - x[b * n * d + i];
                graphChange[i] = out.get("adapted")[b * n * d + i] - x[b * n * d + i];
            }
            double err = Parity.relError(change, 0, graphChange, 0, change.length);
            double gateErr = Parity.relError(r.gate(), 0, out.get("gate"), b * n * gw, r.gate().length);
            System.out.printf("adapter %s %s L=%d %s normFirst=%b pe=%s gate=%s/%s %s: delta relative error %.3e, gate %.3e%n",
                    ops.label(), cfg.preset(), cfg.numLayers(), cfg.activation(), cfg.normFirst(), cfg.positionalEncoding(),
                    cfg.useGate(), cfg.gateType(), wt, err, gateErr);
            assertTrue(err <= bound, "adapted relative error " + err + " > " + bound);
            assertTrue(gateErr <= bound, "gate relative error " + gateErr + " > " + bound);
        }
    }

    /** Random adapter weights for every tensor the config implies; norm weights near 1, scale 0.1. */
    static InMemoryTensorSource weights(DomainAdapterConfig cfg, long seed) {
        InMemoryTensorSource w = new InMemoryTensorSource();
        long s = seed;
        for (Map.Entry<String, long[]> e : DomainAdapterWeights.expectedShapes(cfg).entrySet()) {
            long[] shape = e.getValue();
            int numel = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            String name = e.getKey();
            float[] v;
            if (name.equals("scale")) {
                v = new float[] {(float) cfg.scaleInit()};
            } else if (name.contains("norm") && name.endsWith(".weight")) {
                v = AudioParity.gaussian(numel, 0.1, s++);
                for (int i = 0; i < numel; i++) v[i] += 1f;
            } else {
                double fanIn = shape.length == 2 ? shape[1] : 16;
                v = AudioParity.gaussian(numel, 1 / Math.sqrt(fanIn), s++);
            }
            w.put(name, v, shape);
        }
        return w;
    }
}
