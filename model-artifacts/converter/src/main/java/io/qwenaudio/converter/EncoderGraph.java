package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.AudioOps.F32;
import static io.qwenaudio.converter.AudioOps.I64;

/**
 * The audio tower ({@code audio_tower.*}) as an ONNX graph: {@code input_features [B, 128, 3000]} float32 and
 * {@code mel_lengths [B]} int64 -> {@code last_hidden_state [B, 750, d]} float32.
 *
 * <p>The key mask is built in-graph from {@code mel_lengths}: keys at positions {@code >= (M - 1) / 2 + 1} get
 * -inf for every query, exactly as {@code Qwen2AudioForConditionalGeneration} builds it. With
 * {@link GraphBuilder.WeightType#FLOAT16} the conv and Linear weights are stored as float16 and cast to float32
 * in-graph (ONNX Runtime's CPU float16 kernels are incomplete); norms, biases and positions stay float32.
 * {@code scale_embedding} is ignored, as in transformers (the encoder never applies its embed scale).
 *
 * <p>With {@link GraphOps#FUSED} (the converter's default) each layer is a packed q/k/v MatMul into
 * {@code com.microsoft.MultiHeadAttention} whose key-padding mask is the valid key count per row, int32 [B]
 * ({@code (M - 1) / 2 + 1}; ONNX Runtime adds -10000 to the scores of the keys after it, which softmax turns into
 * exact zeros as -inf does), residual adds fused into {@code com.microsoft.SkipLayerNormalization} (with the
 * out_proj / fc2 bias) and GELU as {@code com.microsoft.Gelu}. {@link GraphOps#STANDARD} writes opset-17 ops only.
 */
public final class EncoderGraph {

    private static final String P = "audio_tower.";

    private EncoderGraph() {
    }

    /** The portable graph: standard ops only. */
    public static void build(GraphBuilder g, AudioEncoderConfig cfg, TensorSource w) {
        build(g, cfg, w, GraphOps.STANDARD);
    }

    public static void build(GraphBuilder g, AudioEncoderConfig cfg, TensorSource w, GraphOps ops) {
        if (!"gelu".equals(cfg.activationFunction())) {
            throw new IllegalArgumentException("audio_config.activation_function is '" + cfg.activationFunction()
                    + "'; only gelu (exact, erf) is supported");
        }
        int d = cfg.dModel(), mels = cfg.numMelBins(), t = cfg.maxSourcePositions(), frames = 2 * t;
        String x = g.input("input_features", F32, "batch", (long) mels, (long) frames);   // [B, 128, 3000]
        String melLengths = g.input("mel_lengths", I64, "batch");                          // [B]

        String h = conv(g, "/audio_tower/conv1", x, w.floats(P + "conv1.weight", d, mels, 3), w.floats(P + "conv1.bias", d), d, mels, 1);
        h = AudioOps.gelu(g, "/audio_tower/conv1/Gelu", h);                                // [B, d, 3000]
        h = conv(g, "/audio_tower/conv2", h, w.floats(P + "conv2.weight", d, d, 3), w.floats(P + "conv2.bias", d), d, d, 2);
        h = AudioOps.gelu(g, "/audio_tower/conv2/Gelu", h);                                // [B, d, 1500]
        h = g.op("Transpose", "/audio_tower/Transpose", List.of(h), Map.of("perm", new long[] {0, 2, 1})); // [B, 1500, d]
        h = g.add("/audio_tower/embed_positions/Add", h,
                g.weightF32("/audio_tower/embed_positions/weight", w.floats(P + "embed_positions.weight", t, d), t, d));

        if (ops == GraphOps.FUSED) {
            h = fusedLayers(g, cfg, w, h, keyLengths(g, melLengths));
        } else {
            String mask = keyMask(g, melLengths, t);                                       // [B, 1, 1, T]
            for (int l = 0; l < cfg.encoderLayers(); l++) h = layer(g, cfg, w, l, h, mask);
        }

        h = g.op("Transpose", "/audio_tower/avg_pooler/Transpose", List.of(h), Map.of("perm", new long[] {0, 2, 1})); // [B, d, 1500]
        h = g.op("AveragePool", "/audio_tower/avg_pooler/AveragePool", List.of(h),
                Map.of("kernel_shape", new long[] {2}, "strides", new long[] {2}));        // [B, d, 750]
        h = g.op("Transpose", "/audio_tower/avg_pooler/Transpose_1", List.of(h), Map.of("perm", new long[] {0, 2, 1})); // [B, 750, d]
        h = AudioOps.layerNorm(g, "/audio_tower/layer_norm", h, w.floats(P + "layer_norm.weight", d),
                w.floats(P + "layer_norm.bias", d), AudioEncoderConfig.LAYER_NORM_EPS);
        g.outputAs(h, "last_hidden_state", F32, "batch", (long) (t / 2), (long) d);
    }

    /** Valid keys per row, int32 [B]: {@code (M - 1) / 2 + 1}, MultiHeadAttention's 1-D key-padding mask. */
    private static String keyLengths(GraphBuilder g, String melLengths) {
        String p = "/audio_tower/key_lengths";
        String one = g.constInts(p + "/one", new long[] {1});
        String l1 = g.add(p + "/Add", g.op("Div", p + "/Div", g.op("Sub", p + "/Sub", melLengths, one),
                g.constInts(p + "/two", new long[] {2})), one);                            // [B] int64
        return g.op("Cast", p + "/Cast", List.of(l1), Map.of("to", (long) AudioOps.I32)); // [B] int32
    }

    /** Additive mask [B, 1, 1, T]: 0 for keys {@code < (M - 1) / 2 + 1}, -inf beyond. */
    private static String keyMask(GraphBuilder g, String melLengths, int t) {
        String p = "/audio_tower/key_mask";
        String one = g.constInts(p + "/one", new long[] {1});
        String two = g.constInts(p + "/two", new long[] {2});
        String l1 = g.add(p + "/Add", g.op("Div", p + "/Div", g.op("Sub", p + "/Sub", melLengths, one), two), one); // [B]
        String range = g.op("Range", p + "/Range", g.constInts(p + "/start", new long[] {0}, new long[0]),
                g.constInts(p + "/limit", new long[] {t}, new long[0]), g.constInts(p + "/delta", new long[] {1}, new long[0])); // [T]
        String valid = g.op("Less", p + "/Less", g.op("Unsqueeze", p + "/Unsqueeze", range, g.ints(p + "/axes0", 0)),
                g.op("Unsqueeze", p + "/Unsqueeze_1", l1, g.ints(p + "/axes1", 1)));     // [B, T]
        String m = g.op("Where", p + "/Where", valid, g.scalar(p + "/zero", 0f), g.scalar(p + "/neg_inf", Float.NEGATIVE_INFINITY));
        return g.op("Unsqueeze", p + "/Unsqueeze_2", m, g.ints(p + "/axes12", 1, 2));   // [B, 1, 1, T]
    }

    private static String conv(GraphBuilder g, String path, String x, float[] weight, float[] bias, int cout, int cin, int stride) {
        String wt = AudioOps.weight(g, path + "/weight", weight, cout, cin, 3);
        return g.op("Conv", path + "/Conv", List.of(x, wt, g.weightF32(path + "/bias", bias, cout)),
                Map.of("kernel_shape", new long[] {3}, "pads", new long[] {1, 1}, "strides", new long[] {stride}));
    }

    /**
     * All layers in fused ops. Each block's last MatMul (out_proj, fc2) leaves its bias and residual add to the next
     * SkipLayerNormalization, which returns the normed input of the next block and the residual stream; after the
     * last layer the bias and residual are plain Adds (the average pool comes before the final norm).
     */
    private static String fusedLayers(GraphBuilder g, AudioEncoderConfig cfg, TensorSource w, String h, String keyLengths) {
        int d = cfg.dModel(), f = cfg.encoderFfnDim(), hd = cfg.headDim();
        double eps = AudioEncoderConfig.LAYER_NORM_EPS;
        String pending = null, pendingBias = null;   // the last block's MatMul output and its bias, not yet added
        for (int l = 0; l < cfg.encoderLayers(); l++) {
            String p = P + "layers." + l + ".", path = "/audio_tower/layers." + l, a = path + "/self_attn";
            float[] n1w = w.floats(p + "self_attn_layer_norm.weight", d), n1b = w.floats(p + "self_attn_layer_norm.bias", d);
            String x;
            if (pending == null) {
                x = AudioOps.layerNorm(g, path + "/self_attn_layer_norm", h, n1w, n1b, eps);         // [B, T, d]
            } else {
                String[] n = AudioOps.skipLayerNorm(g, path + "/self_attn_layer_norm", pending, h, n1w, n1b, pendingBias, eps);
                x = n[0];
                h = n[1];                                                                     // residual stream
            }
            String ctx = AudioOps.multiHeadAttention(g, a, x,
                    w.floats(p + "self_attn.q_proj.weight", d, d), w.floats(p + "self_attn.q_proj.bias", d),
                    w.floats(p + "self_attn.k_proj.weight", d, d), null,
                    w.floats(p + "self_attn.v_proj.weight", d, d), w.floats(p + "self_attn.v_proj.bias", d),
                    cfg.encoderAttentionHeads(), hd, keyLengths);                             // [B, T, d]
            String attn = AudioOps.matmul(g, a + "/out_proj", ctx, w.floats(p + "self_attn.out_proj.weight", d, d), d, d);
            String[] n = AudioOps.skipLayerNorm(g, path + "/final_layer_norm", attn, h, w.floats(p + "final_layer_norm.weight", d),
                    w.floats(p + "final_layer_norm.bias", d), g.weightF32(a + "/out_proj/bias", w.floats(p + "self_attn.out_proj.bias", d), d), eps);
            h = n[1];
            String ff = AudioOps.fusedGelu(g, path + "/activation_fn",
                    AudioOps.linear(g, path + "/fc1", n[0], w.floats(p + "fc1.weight", f, d), w.floats(p + "fc1.bias", f), d, f)); // [B, T, f]
            pending = AudioOps.matmul(g, path + "/fc2", ff, w.floats(p + "fc2.weight", d, f), f, d); // [B, T, d]
            pendingBias = g.weightF32(path + "/fc2/bias", w.floats(p + "fc2.bias", d), d);
        }
        if (pending == null) return h;
        String last = "/audio_tower/layers." + (cfg.encoderLayers() - 1);
        return g.add(last + "/Add_1", h, g.add(last + "/fc2/Add", pending, pendingBias));    // [B, T, d]
    }

    private static String layer(GraphBuilder g, AudioEncoderConfig cfg, TensorSource w, int l, String h, String mask) {
        int d = cfg.dModel(), f = cfg.encoderFfnDim(), hd = cfg.headDim();
        String p = P + "layers." + l + ".";
        String path = "/audio_tower/layers." + l;
        double eps = AudioEncoderConfig.LAYER_NORM_EPS;

        String x = AudioOps.layerNorm(g, path + "/self_attn_layer_norm", h, w.floats(p + "self_attn_layer_norm.weight", d),
                w.floats(p + "self_attn_layer_norm.bias", d), eps);                        // [B, T, d]
        String a = path + "/self_attn";
        String q = AudioOps.linear(g, a + "/q_proj", x, w.floats(p + "self_attn.q_proj.weight", d, d),
                w.floats(p + "self_attn.q_proj.bias", d), d, d);
        q = g.mul(a + "/q_proj/Mul", q, g.scalar(a + "/scaling", (float) Math.pow(hd, -0.5)));
        String k = AudioOps.linear(g, a + "/k_proj", x, w.floats(p + "self_attn.k_proj.weight", d, d), null, d, d);
        String v = AudioOps.linear(g, a + "/v_proj", x, w.floats(p + "self_attn.v_proj.weight", d, d),
                w.floats(p + "self_attn.v_proj.bias", d), d, d);
        String ctx = AudioOps.attention(g, a, q, k, v, cfg.encoderAttentionHeads(), hd, mask); // [B, T, d]
        h = g.add(path + "/Add", h, AudioOps.linear(g, a + "/out_proj", ctx, w.floats(p + "self_attn.out_proj.weight", d, d),
                w.floats(p + "self_attn.out_proj.bias", d), d, d));

        x = AudioOps.layerNorm(g, path + "/final_layer_norm", h, w.floats(p + "final_layer_norm.weight", d),
                w.floats(p + "final_layer_norm.bias", d), eps);
        String ff = AudioOps.gelu(g, path + "/activation_fn",
                AudioOps.linear(g, path + "/fc1", x, w.floats(p + "fc1.weight", f, d), w.floats(p + "fc1.bias", f), d, f)); // [B, T, f]
        return g.add(path + "/Add_1", h, AudioOps.linear(g, path + "/fc2", ff, w.floats(p + "fc2.weight", d, f),
                w.floats(p + "fc2.bias", d), f, d));                                       // [B, T, d]
    }
}
