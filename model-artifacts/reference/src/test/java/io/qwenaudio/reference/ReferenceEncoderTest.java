package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of the reference audio tower that follow from the transformers code. */
class ReferenceEncoderTest {

    private static Qwen2AudioConfig cfg;
    private static InMemoryTensorSource w;
    private static ReferenceEncoder encoder;

    @BeforeAll
    static void build() {
        cfg = TinyModels.odd();
        w = TinyModels.weights(cfg, 7);
        encoder = new ReferenceEncoder(cfg.audio(), w);
    }

    @Test
    void validTokensFollowsGetFeatExtractOutputLengths() {
        // L1 = (M - 1) // 2 + 1, N = (L1 - 2) // 2 + 1, Python floor division
        assertEquals(750, ReferenceEncoder.validTokens(3000));
        assertEquals(400, ReferenceEncoder.validTokens(1600));
        assertEquals(25, ReferenceEncoder.validTokens(100));
        assertEquals(25, ReferenceEncoder.validTokens(99));   // L1 50
        assertEquals(25, ReferenceEncoder.validTokens(101));  // L1 51
        assertEquals(26, ReferenceEncoder.validTokens(103));  // L1 52
        assertEquals(1, ReferenceEncoder.validTokens(3));     // L1 2
        assertEquals(0, ReferenceEncoder.validTokens(1));     // L1 1 -> (-1) // 2 + 1 = 0
    }

    /**
     * transformers masks keys at positions >= L1 for every query, and output row i averages positions 2i, 2i+1
     * (< L1 for i < N). Position j of conv2 reads mel frames up to 2j + 2, so rows 0..N-1 depend on frames
     * 0..2(L1-1)+2 only: for odd M = 2k+1 that is frames up to M + 1, i.e. two padding frames.
     */
    @Test
    void keyMaskHidesFramesBeyondTheConvolutionReach() {
        AudioEncoderConfig a = cfg.audio();
        int d = a.dModel(), mels = a.numMelBins();
        int m = 1001; // odd: L1 = 501, N = 250, position 500 reads frames 999..1002
        int n = ReferenceEncoder.validTokens(m);
        assertEquals(250, n);
        float[] f = TinyModels.features(mels, m, 3);
        float[] base = encoder.forward(f, m);
        assertEquals(750 * d, base.length);

        float[] far = f.clone();
        for (int c = 0; c < mels; c++) for (int t = m + 2; t < 3000; t++) far[c * 3000 + t] = 3f;
        float[] farOut = encoder.forward(far, m);
        assertArrayEquals(Arrays.copyOf(base, n * d), Arrays.copyOf(farOut, n * d), "first N rows must not see frames >= M + 2");
        // Padded queries are not masked, so rows past N do change: the test above compares something that can differ.
        assertTrue(TinyModels.maxAbsDiff(Arrays.copyOfRange(base, n * d, 750 * d), Arrays.copyOfRange(farOut, n * d, 750 * d)) > 1e-3);

        float[] near = f.clone();
        for (int c = 0; c < mels; c++) near[c * 3000 + m + 1] = 3f; // second padding frame: read by position L1 - 1
        double nearDiff = TinyModels.maxAbsDiff(Arrays.copyOf(base, n * d), Arrays.copyOf(encoder.forward(near, m), n * d));
        assertTrue(nearDiff > 1e-4, "frame M + 1 feeds the last valid position through conv2; diff " + nearDiff);
    }

    @Test
    void loraOnTheFlyEqualsExplicitlyMergedWeights() {
        AudioEncoderConfig a = cfg.audio();
        int d = a.dModel(), f = a.encoderFfnDim(), r = 3;
        double scale = 16.0 / r;
        Map<String, LoraAdapter.Target> targets = new LinkedHashMap<>();
        long seed = 100;
        for (String module : List.of("layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj", "layers.0.self_attn.v_proj",
                "layers.0.self_attn.out_proj", "layers.1.fc1", "layers.1.fc2")) {
            String name = "audio_tower." + module;
            int in = module.endsWith("fc2") ? f : d, out = module.endsWith("fc1") ? f : d;
            targets.put(name, new LoraAdapter.Target(name, r, in, out,
                    TinyModels.gaussian(r * in, 1 / Math.sqrt(in), seed++), TinyModels.gaussian(out * r, 0.02, seed++), scale));
        }
        LoraAdapter lora = new LoraAdapter(Path.of("lora"), r, 16, false, false, List.of("q_proj"), null, targets);

        // merged copy: W' = W + scale * B @ A, computed here in double
        InMemoryTensorSource merged = new InMemoryTensorSource();
        for (String name : w.names()) merged.put(name, w.floats(name), w.shape(name));
        for (LoraAdapter.Target t : targets.values()) {
            float[] wt = w.floats(t.weightName());
            for (int o = 0; o < t.out(); o++) {
                for (int i = 0; i < t.in(); i++) {
                    double s = 0;
                    for (int k = 0; k < r; k++) s += (double) t.b()[o * r + k] * t.a()[k * t.in() + i];
                    wt[o * t.in() + i] += (float) (scale * s);
                }
            }
            merged.put(t.weightName(), wt, w.shape(t.weightName()));
        }

        int m = 2400;
        float[] feats = TinyModels.features(a.numMelBins(), m, 11);
        float[] onTheFly = encoder.withLora(lora).forward(feats, m);
        float[] viaMerge = new ReferenceEncoder(a, merged).forward(feats, m);
        float[] plain = encoder.forward(feats, m);
        double diff = TinyModels.maxAbsDiff(onTheFly, viaMerge), effect = TinyModels.maxAbsDiff(onTheFly, plain);
        System.out.printf("LoRA on the fly vs merged: max abs diff %.3e (LoRA effect %.3e)%n", diff, effect);
        assertTrue(effect > 1e-2, "the LoRA must change the output, effect " + effect);
        assertTrue(diff <= 2e-6, "on-the-fly vs merged max abs diff " + diff); // measured 4.8e-7
    }

    @Test
    void rejectsWrongInputSizes() {
        assertThrows(IllegalArgumentException.class, () -> encoder.forward(new float[10], 5));
        assertThrows(IllegalArgumentException.class, () -> encoder.forward(new float[128 * 3000], 0));
    }
}
