package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.reference.ReferenceAdapter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.AudioParity.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adapter diagnostics graph in ONNX Runtime against {@link ReferenceAdapter}: every layer's attention
 * probabilities, the gate and the ungated delta, over pre-/post-LN, gate types and positional encodings.
 */
class AdapterDiagnosticsGraphParityTest {

    /** Measured <= 9.9e-7 (attention probabilities), <= 4.4e-7 (delta), <= 1.8e-7 (gate). */
    static final double FP32_BOUND = 5e-6;

    @ParameterizedTest(name = "d={0} L={1} H={2} normFirst={5} pe={6} gate={7}/{8}")
    @CsvSource({
            "64, 1, 4, 128, gelu, true,  sinusoidal, true,  scalar",
            "64, 2, 4, 96,  relu, false, sinusoidal, true,  channel",
            "48, 2, 3, 80,  gelu, false, none,       false, scalar",
    })
    void attentionGateAndDeltaMatchTheReference(int d, int layers, int heads, int ff, String act, boolean normFirst,
                                                String pe, boolean useGate, String gateType, @TempDir Path dir) throws Exception {
        DomainAdapterConfig cfg = new DomainAdapterConfig("lightweight", d, layers, heads, ff, 0.1, act, normFirst, 1e-5,
                pe, useGate, gateType, 0.1, "ldv");
        InMemoryTensorSource w = AdapterGraphParityTest.weights(cfg, 31);
        int n = 41, batch = 2;
        float[] x = AudioParity.gaussian(batch * n * d, 1.0, 32);
        Path onnx = AudioParity.build(dir, "adapter_diagnostics", GraphBuilder.WeightType.FLOAT32,
                g -> AdapterDiagnosticsGraph.build(g, cfg, w));
        Map<String, float[]> out = AudioParity.run(onnx, Map.of("hidden_states", in(x, batch, n, d)));
        ReferenceAdapter ref = new ReferenceAdapter(cfg, w);
        int gw = useGate && gateType.equals("channel") ? d : 1;
        for (int b = 0; b < batch; b++) {
            float[] xb = Arrays.copyOfRange(x, b * n * d, (b + 1) * n * d);
            ReferenceAdapter.Result r = ref.forward(xb, n);
            List<float[]> att = ref.attentionWeights(xb, n);
            assertEquals(layers, att.size());
            for (int l = 0; l < layers; l++) {
                float[] got = out.get(AdapterDiagnosticsGraph.ATTENTION + l);
                int per = heads * n * n; // [H, N, N] per batch item
                assertEquals(batch * per, got.length);
                double err = Parity.relError(att.get(l), 0, got, b * per, per);
                System.out.printf("adapter diagnostics L=%d normFirst=%b pe=%s: layer %d attention relative error %.3e%n",
                        layers, normFirst, pe, l, err);
                assertTrue(err <= FP32_BOUND, "layer " + l + " attention relative error " + err);
                for (int row = 0; row < heads * n; row++) { // each query row is a distribution
                    double sum = 0;
                    for (int j = 0; j < n; j++) sum += got[b * per + row * n + j];
                    assertEquals(1.0, sum, 1e-4);
                }
            }
            double gateErr = Parity.relError(r.gate(), 0, out.get("gate"), b * n * gw, n * gw);
            double deltaErr = Parity.relError(r.delta(), 0, out.get("delta"), b * n * d, n * d);
            System.out.printf("adapter diagnostics: gate relative error %.3e, delta %.3e%n", gateErr, deltaErr);
            assertTrue(gateErr <= FP32_BOUND, "gate relative error " + gateErr);
            assertTrue(deltaErr <= FP32_BOUND, "delta relative error " + deltaErr);
        }
    }
}
