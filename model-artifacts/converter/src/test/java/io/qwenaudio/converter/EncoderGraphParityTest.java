package io.qwenaudio.converter;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.reference.ReferenceEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static io.qwenaudio.converter.AudioParity.in;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder graph in ONNX Runtime against {@link ReferenceEncoder}, in both op sets ({@link GraphOps}): a batch of
 * two windows (one full, one partially filled with zero features after its mel length, so the key-padding mask
 * matters), float32 and float16 weights, and a LoRA adapter merged into the graph's weights versus applied on the
 * fly by the reference.
 */
class EncoderGraphParityTest {

    /**
     * float32 rounding through two convs and two layers: measured <= 3.4e-7 (tiny and odd, full and partial windows,
     * standard and fused) and 2.9e-7 (LoRA merged vs on the fly).
     */
    static final double FP32_BOUND = 1e-6;
    /**
     * float16 weights (relative rounding 2^-11 ~ 4.9e-4 per weight) through two convs and two layers: measured
     * 2.2e-4 on the tiny preset.
     */
    static final double FP16_BOUND = 1e-3;

    @ParameterizedTest
    @CsvSource({"tiny, STANDARD", "tiny, FUSED", "odd, STANDARD", "odd, FUSED"})
    void batchOfFullAndPartialWindowsMatchesReference(String preset, GraphOps ops, @TempDir Path dir) throws Exception {
        Qwen2AudioConfig cfg = AudioParity.tinyConfig(dir.resolve("ckpt"), preset, 11);
        AudioEncoderConfig a = cfg.audio();
        TensorSource w = MakeTiny.weights(cfg, 11);
        int[] lengths = {3000, 1234};
        float[] features = features(a, lengths, 5);

        Path onnx = AudioParity.build(dir, "encoder", GraphBuilder.WeightType.FLOAT32, g -> EncoderGraph.build(g, a, w, ops));
        float[] out = run(onnx, a, features, lengths);

        ReferenceEncoder ref = new ReferenceEncoder(a, w);
        int per = 750 * a.dModel(), window = a.numMelBins() * 3000;
        for (int b = 0; b < lengths.length; b++) {
            float[] expected = ref.forward(Arrays.copyOfRange(features, b * window, (b + 1) * window), lengths[b]);
            double err = Parity.relError(expected, 0, out, b * per, expected.length);
            System.out.printf("encoder %s %s fp32 melLength %d: relative error %.3e%n", preset, ops.label(), lengths[b], err);
            assertTrue(err <= FP32_BOUND, "relative error " + err + " > " + FP32_BOUND);
        }
    }

    @ParameterizedTest
    @EnumSource(GraphOps.class)
    void float16WeightsStayWithinBound(GraphOps ops, @TempDir Path dir) throws Exception {
        Qwen2AudioConfig cfg = AudioParity.tinyConfig(dir.resolve("ckpt"), "tiny", 12);
        AudioEncoderConfig a = cfg.audio();
        TensorSource w = MakeTiny.weights(cfg, 12);
        int[] lengths = {2000};
        float[] features = features(a, lengths, 6);
        Path onnx = AudioParity.build(dir, "encoder16", GraphBuilder.WeightType.FLOAT16, g -> EncoderGraph.build(g, a, w, ops));
        float[] out = run(onnx, a, features, lengths);
        float[] expected = new ReferenceEncoder(a, w).forward(features, lengths[0]);
        double err = Parity.relError(expected, 0, out, 0, expected.length);
        System.out.printf("encoder tiny %s fp16 weights: relative error %.3e%n", ops.label(), err);
        assertTrue(err <= FP16_BOUND, "relative error " + err + " > " + FP16_BOUND);
        assertTrue(err > 0, "float16 storage should change the result at all");
    }

    @Test
    void mergedLoraGraphMatchesReferenceWithLoraOnTheFly(@TempDir Path dir) throws Exception {
        Qwen2AudioConfig cfg = AudioParity.tinyConfig(dir.resolve("ckpt"), "odd", 13);
        AudioEncoderConfig a = cfg.audio();
        TensorSource base = MakeTiny.weights(cfg, 13);
        MakeTiny.writeLora(dir.resolve("lora"), cfg, 13, "ckpt");
        LoraAdapter lora = LoraAdapter.read(dir.resolve("lora"));

        InMemoryTensorSource merged = new InMemoryTensorSource();
        for (String n : base.names()) {
            if (!n.startsWith("audio_tower.")) continue;
            merged.put(n, base.floats(n), base.shape(n));
        }
        for (LoraAdapter.Target t : lora.targets().values()) {
            float[] wt = merged.floats(t.weightName());
            float[] delta = t.delta();
            for (int i = 0; i < wt.length; i++) wt[i] += delta[i];
            merged.put(t.weightName(), wt, merged.shape(t.weightName()));
        }

        int[] lengths = {1234};
        float[] features = features(a, lengths, 7);
        Path onnx = AudioParity.build(dir, "encoder-lora", GraphBuilder.WeightType.FLOAT32, g -> EncoderGraph.build(g, a, merged, GraphOps.FUSED));
        float[] out = run(onnx, a, features, lengths);
        float[] expected = new ReferenceEncoder(a, base).withLora(lora).forward(features, lengths[0]);
        float[] withoutLora = new ReferenceEncoder(a, base).forward(features, lengths[0]);
        double err = Parity.relError(expected, 0, out, 0, expected.length);
        double loraEffect = Parity.relError(expected, 0, withoutLora, 0, expected.length);
        System.out.printf("encoder odd LoRA merged vs on the fly: relative error %.3e (LoRA changes output by %.3e)%n", err, loraEffect);
        assertTrue(err <= FP32_BOUND, "relative error " + err + " > " + FP32_BOUND);
        assertTrue(loraEffect > 100 * FP32_BOUND, "the LoRA adapter should change the output");
    }

    /** Random log-mel-like features [B, mels, 3000], zero after each window's mel length (as the front end pads). */
    static float[] features(AudioEncoderConfig a, int[] lengths, long seed) {
        int mels = a.numMelBins(), frames = 3000;
        float[] f = AudioParity.gaussian(lengths.length * mels * frames, 0.5, seed);
        for (int b = 0; b < lengths.length; b++) {
            for (int m = 0; m < mels; m++) {
                for (int t = lengths[b]; t < frames; t++) f[(b * mels + m) * frames + t] = 0f;
            }
        }
        return f;
    }

    static float[] run(Path onnx, AudioEncoderConfig a, float[] features, int[] lengths) throws Exception {
        long[] ml = new long[lengths.length];
        for (int i = 0; i < ml.length; i++) ml[i] = lengths[i];
        return AudioParity.run(onnx, Map.of(
                "input_features", in(features, lengths.length, a.numMelBins(), 3000),
                "mel_lengths", in(ml, lengths.length))).get("last_hidden_state");
    }
}
