package io.qwenaudio.converter;

import io.qwenaudio.reference.Parity;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.reference.ReferenceDecoder;
import io.qwenaudio.reference.TextMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static io.qwenaudio.converter.TextGraphs.ones;
import static io.qwenaudio.converter.TextGraphs.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exported decoder graph (ORT CPU) against the Java reference decoder on random tiny models. */
class DecoderGraphParityTest {

    /**
     * fp32 bound for both op sets (logits and hidden states, prefill, decode, padding, chunked prefill), with
     * greedy ids identical: measured <= 7.4e-7 (standard) and <= 5.3e-7 (fused) over the tiny/odd cases below.
     */
    private static final double FP32_TOL = 1e-6;
    /** float16-stored linear weights (norms and biases stay float32): observed <= 4.1e-4 on the tiny presets. */
    private static final double FP16_TOL = 1.5e-3;

    private static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> presetsAndOps() {
        return java.util.stream.Stream.of("tiny", "odd").flatMap(p -> java.util.stream.Stream.of(GraphOps.values())
                .map(o -> org.junit.jupiter.params.provider.Arguments.of(p, o)));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("presetsAndOps")
    void prefillMatchesReferenceLogitsAndHiddenStates(String preset, GraphOps ops, @TempDir Path dir) throws Exception {
        try (TextGraphs m = TextGraphs.decoder(dir, preset, 11, ops, Dtype.FP32)) {
            ReferenceDecoder ref = new ReferenceDecoder(m.cfg, m.weights);
            int s = 7;
            float[] x = ref.embed(tokens(s, m.cfg.vocabSize(), 5));
            ReferenceDecoder.Output want = ref.forward(x, s);
            TextGraphs.Out got = m.run(1, s, x, ones(s), range(0, s), null, null);
            double e = Parity.relError(want.lastLogits(), got.logits());
            System.out.printf("[%s/" + ops.label() + "] prefill S=7 logits rel err %.3e%n", preset, e);
            assertTrue(e <= FP32_TOL, "logits rel err " + e);
            assertEquals(m.cfg.numHiddenLayers() + 1, got.hidden().length);
            for (int i = 0; i < got.hidden().length; i++) {
                double eh = Parity.relError(want.hiddenStates()[i], got.hidden()[i]);
                System.out.printf("[%s/" + ops.label() + "] hidden_states.%d rel err %.3e%n", preset, i, eh);
                assertTrue(eh <= FP32_TOL, "hidden_states." + i + " rel err " + eh);
            }
            int kvLen = m.cfg.numKeyValueHeads() * s * m.cfg.headDim();
            assertEquals(kvLen, got.presentK()[0].length);
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("presetsAndOps")
    void kvCacheDecodeMatchesFullRecomputeAndGreedy(String preset, GraphOps ops, @TempDir Path dir) throws Exception {
        try (TextGraphs m = TextGraphs.decoder(dir, preset, 12, ops, Dtype.FP32)) {
            ReferenceDecoder ref = new ReferenceDecoder(m.cfg, m.weights);
            int s = 7, steps = 5, h = m.cfg.hiddenSize();
            int[] prompt = tokens(s, m.cfg.vocabSize(), 6);
            float[] x = ref.embed(prompt);
            TextGraphs.Out out = m.run(1, s, x, ones(s), range(0, s), null, null);
            int[] seq = Arrays.copyOf(prompt, s + steps);
            int[] generated = new int[steps + 1];
            generated[0] = TextMath.argmax(out.logits());
            double worst = 0;
            for (int k = 0; k < steps; k++) {
                int pos = s + k;
                seq[pos] = generated[k];
                out = m.run(1, 1, ref.embed(new int[] {generated[k]}), ones(pos + 1), range(pos, 1),
                        out.presentK(), out.presentV());
                float[] full = ref.forward(ref.embed(Arrays.copyOf(seq, pos + 1)), pos + 1).lastLogits();
                double e = Parity.relError(full, out.logits());
                worst = Math.max(worst, e);
                assertTrue(e <= FP32_TOL, "step " + k + " logits rel err " + e);
                assertEquals(m.cfg.numKeyValueHeads() * (pos + 1) * m.cfg.headDim(), out.presentK()[0].length);
                generated[k + 1] = TextMath.argmax(out.logits());
            }
            System.out.printf("[%s/" + ops.label() + "] kv-cache 5 steps: worst logits rel err %.3e, ids %s%n", preset, worst, Arrays.toString(generated));
            assertArrayEquals(ref.greedy(x, s, steps + 1, new int[0]), generated);
            assertEquals(h * s, x.length);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "odd"})
    void float16WeightsStayWithinBound(String preset, @TempDir Path dir) throws Exception {
        try (TextGraphs m = TextGraphs.decoder(dir, preset, 13, GraphBuilder.WeightType.FLOAT16)) {
            ReferenceDecoder ref = new ReferenceDecoder(m.cfg, m.weights);
            int s = 7;
            float[] x = ref.embed(tokens(s, m.cfg.vocabSize(), 7));
            ReferenceDecoder.Output want = ref.forward(x, s);
            TextGraphs.Out got = m.run(1, s, x, ones(s), range(0, s), null, null);
            double e = Parity.relError(want.lastLogits(), got.logits());
            double eh = Parity.relError(want.hiddenStates()[m.cfg.numHiddenLayers()], got.hidden()[m.cfg.numHiddenLayers()]);
            System.out.printf("[%s] fp16 weights: logits rel err %.3e, last hidden rel err %.3e%n", preset, e, eh);
            assertTrue(e <= FP16_TOL, "fp16 logits rel err " + e);
            assertTrue(eh <= FP16_TOL, "fp16 last hidden rel err " + eh);
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("presetsAndOps")
    void leftPaddedBatchMatchesSingleRows(String preset, GraphOps ops, @TempDir Path dir) throws Exception {
        try (TextGraphs m = TextGraphs.decoder(dir, preset, 14, ops, Dtype.FP32)) {
            ReferenceDecoder ref = new ReferenceDecoder(m.cfg, m.weights);
            int s = 7, shortLen = 4, padN = s - shortLen, h = m.cfg.hiddenSize(), v = m.cfg.vocabSize();
            float[] long0 = ref.embed(tokens(s, v, 8));
            float[] short1 = ref.embed(tokens(shortLen, v, 9));
            float[] batch = new float[2 * s * h];
            System.arraycopy(long0, 0, batch, 0, s * h);
            System.arraycopy(short1, 0, batch, (s + padN) * h, shortLen * h); // pad rows stay zero
            long[] mask = new long[2 * s];
            long[] pos = new long[2 * s];
            for (int i = 0; i < s; i++) {
                mask[i] = 1;
                pos[i] = i;
                mask[s + i] = i < padN ? 0 : 1;
                pos[s + i] = i < padN ? 1 : i - padN; // transformers: cumsum(mask) - 1, padding filled with 1
            }
            TextGraphs.Out got = m.run(2, s, batch, mask, pos, null, null);
            for (float f : got.logits()) assertTrue(Float.isFinite(f), "non-finite logit with left padding");
            float[] row0 = Arrays.copyOfRange(got.logits(), 0, v), row1 = Arrays.copyOfRange(got.logits(), v, 2 * v);
            double e0 = Parity.relError(ref.forward(long0, s).lastLogits(), row0);
            double e1 = Parity.relError(ref.forward(short1, shortLen).lastLogits(), row1);
            TextGraphs.Out alone = m.run(1, shortLen, short1, ones(shortLen), range(0, shortLen), null, null);
            double eAlone = Parity.relError(alone.logits(), row1);
            System.out.printf("[%s/" + ops.label() + "] left padding: row0 %.3e, padded row1 vs reference %.3e, vs graph alone %.3e%n",
                    preset, e0, e1, eAlone);
            assertTrue(e0 <= FP32_TOL && e1 <= FP32_TOL && eAlone <= FP32_TOL, e0 + " " + e1 + " " + eAlone);
            for (float f : got.hidden()[m.cfg.numHiddenLayers()]) assertTrue(Float.isFinite(f), "non-finite hidden state");
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("presetsAndOps")
    void chunkedPrefillOverPastMatchesOneShot(String preset, GraphOps ops, @TempDir Path dir) throws Exception {
        try (TextGraphs m = TextGraphs.decoder(dir, preset, 15, ops, Dtype.FP32)) {
            ReferenceDecoder ref = new ReferenceDecoder(m.cfg, m.weights);
            int first = 4, second = 3, s = first + second, h = m.cfg.hiddenSize(), layers = m.cfg.numHiddenLayers();
            float[] x = ref.embed(tokens(s, m.cfg.vocabSize(), 10));
            TextGraphs.Out a = m.run(1, first, Arrays.copyOf(x, first * h), ones(first), range(0, first), null, null);
            TextGraphs.Out b = m.run(1, second, Arrays.copyOfRange(x, first * h, s * h), ones(s), range(first, second),
                    a.presentK(), a.presentV());
            ReferenceDecoder.Output want = ref.forward(x, s);
            double e = Parity.relError(want.lastLogits(), b.logits());
            double worst = e;
            for (int i = 0; i <= layers; i++) {
                float[] rows = Arrays.copyOfRange(want.hiddenStates()[i], first * h, s * h);
                worst = Math.max(worst, Parity.relError(rows, b.hidden()[i]));
            }
            System.out.printf("[%s/" + ops.label() + "] chunked prefill 4+3: logits rel err %.3e, worst incl. hidden states %.3e%n", preset, e, worst);
            assertTrue(worst <= FP32_TOL, "chunked prefill rel err " + worst);
        }
    }

    /** A head size GroupQueryAttention cannot run on the CPU (12): the fused graph keeps standard attention. */
    static final MakeTiny.Preset HEAD12 = new MakeTiny.Preset("head12", 64, 2, 4, 128, 128, 1500,
            48, 2, 4, 2, 96, 2048, 300);

    @Test
    void fusedGraphRecordsItsOpsAndFallsBackForOddHeadSizes(@TempDir Path dir) throws Exception {
        try (TextGraphs m = TextGraphs.decoder(dir.resolve("odd"), "odd", 16, GraphOps.FUSED, Dtype.FP32)) {
            assertEquals(java.util.List.of("SimplifiedLayerNormalization", "com.microsoft:GroupQueryAttention",
                    "com.microsoft:SkipSimplifiedLayerNormalization"), TextGraphs.lastOps);
        }
        try (TextGraphs m = TextGraphs.decoder(dir.resolve("h12"), HEAD12, 16, GraphOps.FUSED, Dtype.FP32)) {
            assertEquals(java.util.List.of("SimplifiedLayerNormalization", "com.microsoft:SkipSimplifiedLayerNormalization"),
                    TextGraphs.lastOps, "head_dim 12: attention stays standard");
            ReferenceDecoder ref = new ReferenceDecoder(m.cfg, m.weights);
            int s = 6;
            float[] x = ref.embed(tokens(s, m.cfg.vocabSize(), 17));
            TextGraphs.Out out = m.run(1, s, x, ones(s), range(0, s), null, null);
            double e = Parity.relError(ref.forward(x, s).lastLogits(), out.logits());
            TextGraphs.Out step = m.run(1, 1, ref.embed(new int[] {3}), ones(s + 1), range(s, 1), out.presentK(), out.presentV());
            int[] seq = Arrays.copyOf(tokens(s, m.cfg.vocabSize(), 17), s + 1);
            seq[s] = 3;
            double e2 = Parity.relError(ref.forward(ref.embed(seq), s + 1).lastLogits(), step.logits());
            System.out.printf("[head12/fused fallback] prefill %.3e, decode step %.3e%n", e, e2);
            assertTrue(e <= FP32_TOL && e2 <= FP32_TOL, e + " " + e2);
        }
        Qwen2AudioConfig c = MakeTiny.write(dir.resolve("ck16"), new MakeTiny.Options(HEAD12, 1, null, null));
        try (GraphBuilder g = new GraphBuilder("decoder", dir.resolve("x.data"), GraphBuilder.WeightType.FLOAT16)) {
            IllegalArgumentException ex = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> DecoderGraph.build(g, c.text(), MakeTiny.weights(c, 1), GraphOps.FUSED, Dtype.FP16));
            assertTrue(ex.getMessage().contains("head_dim 12"), ex.getMessage());
        }
    }

    @Test
    void graphUsesOnlyStandardOpset17Ops(@TempDir Path dir) throws Exception {
        Qwen2AudioConfig full = MakeTiny.write(dir.resolve("ckpt"),
                MakeTiny.Options.odd(1));
        Path onnx = dir.resolve("d.onnx");
        try (GraphBuilder g = new GraphBuilder("decoder", dir.resolve("d.onnx.data"), GraphBuilder.WeightType.FLOAT16)) {
            DecoderGraph.build(g, full.text(), MakeTiny.weights(full, 1));
            g.save(onnx, "test");
        }
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        assertEquals(1, model.getOpsetImportCount());
        assertEquals(17, model.getOpsetImport(0).getVersion());
        for (NodeProto n : model.getGraph().getNodeList()) {
            assertEquals("", n.getDomain(), "node " + n.getName() + " is in domain " + n.getDomain());
        }
        int layers = full.text().numHiddenLayers();
        assertEquals(3 + 2 * layers, model.getGraph().getInputCount());
        assertEquals(1 + 2 * layers + layers + 1, model.getGraph().getOutputCount());
    }
}
