package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.Arrays;
import java.util.Map;

/**
 * Naive float-array forward of the Qwen2-Audio audio tower (transformers {@code Qwen2AudioEncoder}) for one
 * 30 s window: conv1 -> GELU -> conv2 (stride 2) -> GELU -> + positions -> pre-LN layers with a key mask at
 * positions {@code >= (melLength - 1) / 2 + 1} -> AvgPool(2) -> LayerNorm. A LoRA adapter can be applied on the
 * fly (not merged), which makes it an independent check of a merged graph. {@code scale_embedding} is ignored, as
 * in transformers (the encoder never applies its embed scale).
 */
public final class ReferenceEncoder {

    private static final String P = "audio_tower.";

    private final AudioEncoderConfig cfg;
    private final TensorSource w;
    private final Map<String, LoraAdapter.Target> lora;

    /** Reads every {@code audio_tower.*} tensor of {@code w} once. */
    public ReferenceEncoder(AudioEncoderConfig cfg, TensorSource w) {
        this(cfg, LoadedWeights.of(w, P), Map.of());
    }

    private ReferenceEncoder(AudioEncoderConfig cfg, TensorSource w, Map<String, LoraAdapter.Target> lora) {
        if (!"gelu".equals(cfg.activationFunction())) {
            throw new IllegalArgumentException("audio_config.activation_function is '" + cfg.activationFunction()
                    + "'; only gelu (exact, erf) is supported");
        }
        this.cfg = cfg;
        this.w = w;
        this.lora = lora;
    }

    /**
     * Number of valid audio tokens for a window with {@code melLength} frames of real audio (transformers
     * {@code _get_feat_extract_output_lengths}): {@code L1 = (M - 1) // 2 + 1}, {@code N = (L1 - 2) // 2 + 1}
     * with Python's floor division (so a single frame gives 0 tokens).
     */
    public static int validTokens(int melLength) {
        int l1 = Math.floorDiv(melLength - 1, 2) + 1;
        return Math.floorDiv(l1 - 2, 2) + 1;
    }

    /** The same encoder with {@code y = x W^T + b + scale * (x A^T) B^T} on every Linear the adapter targets. */
    public ReferenceEncoder withLora(LoraAdapter lora) {
        for (LoraAdapter.Target t : lora.targets().values()) {
            String weight = t.weightName();
            if (!t.module().startsWith(P) || !w.has(weight)) {
                throw new IllegalArgumentException("LoRA target '" + t.module() + "' is not a Linear of the audio tower"
                        + " (expected e.g. audio_tower.layers.0.self_attn.q_proj)");
            }
            long[] s = w.shape(weight);
            if (s.length != 2 || s[0] != t.out() || s[1] != t.in()) {
                throw new IllegalArgumentException("LoRA target '" + t.module() + "' is [out " + t.out() + ", in " + t.in()
                        + "] but the weight is " + Arrays.toString(s));
            }
        }
        return new ReferenceEncoder(cfg, w, lora.targets());
    }

    /**
     * @param features  log-mel features [numMelBins, 3000] row-major (mel bin major, as the feature extractor)
     * @param melLength number of frames holding real audio (1..3000)
     * @return last_hidden_state [750, dModel] (all rows; only the first (L1 - 2) / 2 + 1 are meaningful)
     */
    public float[] forward(float[] features, int melLength) {
        int d = cfg.dModel(), mels = cfg.numMelBins(), frames = 2 * cfg.maxSourcePositions(), t = cfg.maxSourcePositions();
        if (features.length != mels * frames) {
            throw new IllegalArgumentException("features must be [" + mels + ", " + frames + "] = " + mels * frames
                    + " values, found " + features.length);
        }
        if (melLength < 1 || melLength > frames) {
            throw new IllegalArgumentException("melLength must be in 1.." + frames + ", found " + melLength);
        }
        int validKeys = (melLength - 1) / 2 + 1; // L1

        float[] c1 = conv1d(features, mels, frames, w.floats(P + "conv1.weight", d, mels, 3), w.floats(P + "conv1.bias", d), d, 1);
        AudioMath.geluInPlace(c1);                                                      // [d, 3000]
        float[] c2 = conv1d(c1, d, frames, w.floats(P + "conv2.weight", d, d, 3), w.floats(P + "conv2.bias", d), d, 2);
        AudioMath.geluInPlace(c2);                                                      // [d, 1500]

        float[] pos = w.floats(P + "embed_positions.weight", t, d);                     // [1500, d]
        float[] h = new float[t * d];                                                   // [1500, d]
        for (int i = 0; i < t; i++) for (int c = 0; c < d; c++) h[i * d + c] = c2[c * t + i] + pos[i * d + c];

        for (int l = 0; l < cfg.encoderLayers(); l++) h = layer(h, t, l, validKeys);

        int n = t / 2;
        float[] pooled = new float[n * d];                                              // [750, d]
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) pooled[i * d + c] = (h[2 * i * d + c] + h[(2 * i + 1) * d + c]) * 0.5f;
        }
        return AudioMath.layerNorm(pooled, n, d, w.floats(P + "layer_norm.weight", d), w.floats(P + "layer_norm.bias", d),
                AudioEncoderConfig.LAYER_NORM_EPS);                                     // [750, d]
    }

    private float[] layer(float[] h, int t, int l, int validKeys) {
        int d = cfg.dModel(), f = cfg.encoderFfnDim(), heads = cfg.encoderAttentionHeads(), hd = cfg.headDim();
        String p = P + "layers." + l + ".";
        double eps = AudioEncoderConfig.LAYER_NORM_EPS;

        float[] x = AudioMath.layerNorm(h, t, d, w.floats(p + "self_attn_layer_norm.weight", d),
                w.floats(p + "self_attn_layer_norm.bias", d), eps);                     // [t, d]
        float[] q = linear(x, t, p + "self_attn.q_proj", d, d, true);                   // [t, d]
        float scale = (float) Math.pow(hd, -0.5);
        for (int i = 0; i < q.length; i++) q[i] *= scale;
        float[] k = linear(x, t, p + "self_attn.k_proj", d, d, false);                  // [t, d], no bias
        float[] v = linear(x, t, p + "self_attn.v_proj", d, d, true);                   // [t, d]
        float[] ctx = AudioMath.attention(q, k, v, t, heads, hd, validKeys);            // [t, d]
        AudioMath.addInPlace(h, linear(ctx, t, p + "self_attn.out_proj", d, d, true));  // [t, d]

        x = AudioMath.layerNorm(h, t, d, w.floats(p + "final_layer_norm.weight", d),
                w.floats(p + "final_layer_norm.bias", d), eps);                         // [t, d]
        float[] ff = AudioMath.geluInPlace(linear(x, t, p + "fc1", d, f, true));        // [t, f]
        AudioMath.addInPlace(h, linear(ff, t, p + "fc2", f, d, true));                  // [t, d]
        return h;
    }

    /** A Linear of the audio tower (weight [out, in]) plus its LoRA term when the adapter targets it. */
    private float[] linear(float[] x, int n, String module, int in, int out, boolean bias) {
        float[] y = AudioMath.linear(x, n, w.floats(module + ".weight", out, in), bias ? w.floats(module + ".bias", out) : null,
                in, out);                                                               // [n, out]
        LoraAdapter.Target t = lora.get(module);
        if (t != null) {
            float[] xa = AudioMath.linear(x, n, t.a(), null, in, t.rank());             // [n, r]
            float[] xab = AudioMath.linear(xa, n, t.b(), null, t.rank(), out);          // [n, out]
            for (int i = 0; i < y.length; i++) y[i] += (float) (t.scale() * xab[i]);
        }
        return y;
    }

    /** Conv1d, kernel 3, padding 1: x [cin, len] -> [cout, (len - 1) / stride + 1]. */
    private static float[] conv1d(float[] x, int cin, int len, float[] wt, float[] b, int cout, int stride) {
        int outLen = (len + 2 - 3) / stride + 1;
        float[] y = new float[cout * outLen];                                           // [cout, outLen]
        double[] acc = new double[outLen];
        for (int o = 0; o < cout; o++) {
            Arrays.fill(acc, b[o]);
            for (int c = 0; c < cin; c++) {
                int xo = c * len;
                for (int k = 0; k < 3; k++) {
                    double wv = wt[(o * cin + c) * 3 + k];
                    for (int i = 0; i < outLen; i++) {
                        int src = i * stride + k - 1;
                        if (src >= 0 && src < len) acc[i] += wv * x[xo + src];
                    }
                }
            }
            for (int i = 0; i < outLen; i++) y[o * outLen + i] = (float) acc[i];
        }
        return y;
    }
}
