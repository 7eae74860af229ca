package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the two op sets of the audio encoder and the domain adapter contain, as written and after ONNX Runtime's
 * optimiser: the fused graphs carry one MultiHeadAttention per layer and no Softmax, and run on fewer nodes than the
 * standard ones even after ONNX Runtime fused what it could of those; the standard graphs carry no contrib op.
 */
class AudioGraphOpsTest {

    @Test
    void encoderOpSets(@TempDir Path dir) throws Exception {
        Qwen2AudioConfig cfg = AudioParity.tinyConfig(dir.resolve("ckpt"), "odd", 31);
        AudioEncoderConfig a = cfg.audio();
        var w = MakeTiny.weights(cfg, 31);
        int layers = a.encoderLayers();
        GraphStats.Counts[] written = new GraphStats.Counts[2], run = new GraphStats.Counts[2];
        for (GraphOps ops : GraphOps.values()) {
            List<String>[] contrib = new List[1];
            Path onnx = AudioParity.build(dir, "encoder-" + ops.label(), GraphBuilder.WeightType.FLOAT32, g -> {
                EncoderGraph.build(g, a, w, ops);
                contrib[0] = g.contribOps();
            });
            written[ops.ordinal()] = GraphStats.written(onnx);
            run[ops.ordinal()] = GraphStats.optimized(onnx, dir.resolve("opt"));
            System.out.printf("encoder odd (%d layers) %s: %d nodes written, %d after ONNX Runtime's optimiser; %s%n", layers,
                    ops.label(), written[ops.ordinal()].nodes(), run[ops.ordinal()].nodes(), run[ops.ordinal()].ops());
            if (ops == GraphOps.FUSED) {
                assertEquals(List.of("com.microsoft:Gelu", "com.microsoft:MultiHeadAttention",
                        "com.microsoft:SkipLayerNormalization"), contrib[0]);
                assertEquals(layers, run[1].count("com.microsoft:MultiHeadAttention"));
                assertEquals(0, run[1].count("Softmax"));
            } else {
                assertEquals(List.of(), contrib[0]);
                assertEquals(layers, run[0].count("Softmax"));
            }
        }
        assertTrue(written[1].nodes() < written[0].nodes());
        assertTrue(run[1].nodes() < run[0].nodes(), "fused graph runs on " + run[1].nodes() + " nodes, standard on " + run[0].nodes());
    }

    @Test
    void adapterOpSets(@TempDir Path dir) throws Exception {
        for (boolean normFirst : new boolean[] {true, false}) {
            DomainAdapterConfig cfg = new DomainAdapterConfig("lightweight", 64, 2, 4, 128, 0.1, "gelu", normFirst, 1e-5,
                    "sinusoidal", true, "scalar", 0.1, "ldv");
            var w = AdapterGraphParityTest.weights(cfg, 32);
            int[] runNodes = new int[2];
            for (GraphOps ops : GraphOps.values()) {
                Path onnx = AudioParity.build(dir, "adapter-" + normFirst + "-" + ops.label(), GraphBuilder.WeightType.FLOAT32,
                        g -> AdapterGraph.build(g, cfg, w, ops));
                GraphStats.Counts written = GraphStats.written(onnx), run = GraphStats.optimized(onnx, dir.resolve("opt"));
                runNodes[ops.ordinal()] = run.nodes();
                System.out.printf("adapter (2 layers, norm_first %b) %s: %d nodes written, %d after ONNX Runtime's optimiser; %s%n",
                        normFirst, ops.label(), written.nodes(), run.nodes(), run.ops());
                assertEquals(ops == GraphOps.FUSED ? 2 : 0, run.count("com.microsoft:MultiHeadAttention"));
            }
            assertTrue(runNodes[1] < runNodes[0]);
        }
    }
}
