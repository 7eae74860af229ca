package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;

import java.util.List;
import java.util.Map;

/**
 * Graph-building functions shared by the audio-side graphs (encoder, projector, domain adapter): Linear layers
 * with pre-transposed weights, LayerNormalization, exact GELU and multi-head attention, each in standard ops and,
 * for {@link GraphOps#FUSED}, as ONNX Runtime contrib ops ({@code com.microsoft} MultiHeadAttention,
 * SkipLayerNormalization, Gelu). Weights stored as float16 are cast to float32 right after loading, so all compute
 * and graph I/O stay float32.
 */
final class AudioOps {

    static final int F32 = TensorProto.DataType.FLOAT_VALUE;
    static final int I64 = TensorProto.DataType.INT64_VALUE;
    static final int I32 = TensorProto.DataType.INT32_VALUE;

    private AudioOps() {
    }

    /** Casts a stored weight to float32 when the builder stores float16. */
    static String asF32(GraphBuilder g, String weight) {
        if (g.weightType() != GraphBuilder.WeightType.FLOAT16) return weight;
        return g.op("Cast", weight + "/Cast", List.of(weight), Map.of("to", (long) F32));
    }

    /** A float weight in the builder's weight type, read as float32 at runtime. */
    static String weight(GraphBuilder g, String name, float[] values, long... shape) {
        return asF32(g, g.weight(name, values, shape));
    }

    /**
     * {@code x W^T + b} for a PyTorch Linear weight [out, in] (stored transposed as [in, out]); bias null for
     * none. Biases are kept float32.
     */
    static String linear(GraphBuilder g, String path, String x, float[] w, float[] b, int in, int out) {
        float[] t = new float[w.length]; // [in, out]
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) t[i * out + o] = w[o * in + i];
        String y = g.matmul(path, x, weight(g, path + "/weight_t", t, in, out));
        if (b == null) return y;
        return g.add(path + "/Add", y, g.weightF32(path + "/bias", b, out));
    }

    /** LayerNormalization (opset 17) over the last axis; gamma and beta kept float32. */
    static String layerNorm(GraphBuilder g, String path, String x, float[] gamma, float[] beta, double eps) {
        int d = gamma.length;
        return g.op("LayerNormalization", path + "/LayerNormalization",
                List.of(x, g.weightF32(path + "/weight", gamma, d), g.weightF32(path + "/bias", beta, d)),
                Map.of("axis", -1L, "epsilon", eps));
    }

    /** Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)). */
    static String gelu(GraphBuilder g, String path, String x) {
        String erf = g.op("Erf", path + "/Erf", g.op("Div", path + "/Div", x, g.scalar(path + "/sqrt2", (float) Math.sqrt(2))));
        String one = g.add(path + "/Add", erf, g.scalar(path + "/one", 1f));
        return g.mul(path + "/Mul_1", g.mul(path + "/Mul", x, one), g.scalar(path + "/half", 0.5f));
    }

    /**
     * Scaled dot-product attention over projected q (already scaled), k, v [B, T, heads*hd]; {@code mask} is an
     * additive float mask broadcastable to [B, heads, T, T] (or null). Returns [B, T, heads*hd].
     */
    static String attention(GraphBuilder g, String path, String q, String k, String v, int heads, int hd, String mask) {
        String split = g.ints(path + "/split_shape", 0, 0, heads, hd);
        String qh = g.op("Transpose", path + "/q/Transpose", List.of(g.op("Reshape", path + "/q/Reshape", q, split)),
                Map.of("perm", new long[] {0, 2, 1, 3}));                                  // [B, H, T, hd]
        String kh = g.op("Transpose", path + "/k/Transpose", List.of(g.op("Reshape", path + "/k/Reshape", k, split)),
                Map.of("perm", new long[] {0, 2, 3, 1}));                                  // [B, H, hd, T]
        String vh = g.op("Transpose", path + "/v/Transpose", List.of(g.op("Reshape", path + "/v/Reshape", v, split)),
                Map.of("perm", new long[] {0, 2, 1, 3}));                                  // [B, H, T, hd]
        String scores = g.op("MatMul", path + "/scores/MatMul", qh, kh);                 // [B, H, T, T]
        if (mask != null) scores = g.add(path + "/scores/Add", scores, mask);
        String probs = g.op("Softmax", path + "/Softmax", List.of(scores), Map.of("axis", -1L));
        String ctx = g.op("MatMul", path + "/context/MatMul", probs, vh);                // [B, H, T, hd]
        String ctxT = g.op("Transpose", path + "/context/Transpose", List.of(ctx), Map.of("perm", new long[] {0, 2, 1, 3}));
        return g.op("Reshape", path + "/context/Reshape", ctxT, g.ints(path + "/merge_shape", 0, 0, (long) heads * hd)); // [B, T, d]
    }

    // ---- fused (ONNX Runtime contrib ops) ----

    /** {@code x W^T} only, for a PyTorch Linear weight [out, in] (stored transposed); the bias goes elsewhere. */
    static String matmul(GraphBuilder g, String path, String x, float[] w, int in, int out) {
        return linear(g, path, x, w, null, in, out);
    }

    /** Exact GELU as one {@code com.microsoft.Gelu} node (erf form; ONNX Runtime fuses a preceding bias Add into BiasGelu). */
    static String fusedGelu(GraphBuilder g, String path, String x) {
        return g.ms("Gelu", path + "/Gelu", List.of(x), Map.of(), 1)[0];
    }

    /**
     * {@code com.microsoft.SkipLayerNormalization}: {@code sum = x + skip + bias} (bias null for none) and
     * {@code LayerNorm(sum)} over the last axis in one kernel. Returns {normed, sum}; gamma, beta and bias stay float32.
     */
    static String[] skipLayerNorm(GraphBuilder g, String path, String x, String skip, float[] gamma, float[] beta,
                                  String bias, double eps) {
        int d = gamma.length;
        List<String> in = new java.util.ArrayList<>(List.of(x, skip, g.weightF32(path + "/weight", gamma, d),
                g.weightF32(path + "/bias", beta, d)));
        if (bias != null) in.add(bias);
        String[] out = g.opSome("SkipLayerNormalization", GraphBuilder.MS_DOMAIN, path + "/SkipLayerNormalization", in,
                Map.of("epsilon", (float) eps), 0, 3);
        return new String[] {out[0], out[3]};
    }

    /**
     * Self-attention as one packed q/k/v MatMul [d, 3d], a Split and {@code com.microsoft.MultiHeadAttention} with
     * the q/k/v biases as its {@code bias} input [3d] (a missing bias is zeros) and its default scale
     * {@code 1/sqrt(hd)}, which equals scaling q after its bias as transformers does. {@code keyLengths} is the
     * key-padding mask as valid keys per row, int32 [B] (keys at positions >= it are masked; null: no mask).
     * Returns the context [B, T, heads*hd] before the output projection.
     *
     * @param wq q weight [d, d] as PyTorch stores it ([out, in]), likewise wk, wv; bq, bk, bv [d] or null
     */
    static String multiHeadAttention(GraphBuilder g, String path, String x, float[] wq, float[] bq, float[] wk,
                                     float[] bk, float[] wv, float[] bv, int heads, int hd, String keyLengths) {
        int d = heads * hd, in = wq.length / d;
        float[] packed = new float[in * 3 * d];                                            // [in, 3d]
        float[][] parts = {wq, wk, wv};
        for (int p = 0; p < 3; p++) {
            for (int o = 0; o < d; o++) for (int i = 0; i < in; i++) packed[i * 3 * d + p * d + o] = parts[p][o * in + i];
        }
        float[] bias = new float[3 * d];                                                   // [3d] q, k, v
        float[][] biases = {bq, bk, bv};
        for (int p = 0; p < 3; p++) if (biases[p] != null) System.arraycopy(biases[p], 0, bias, p * d, d);
        String qkv = g.matmul(path + "/qkv_proj", x, weight(g, path + "/qkv_proj/weight_t", packed, in, 3L * d)); // [B, T, 3d]
        String[] split = g.opN("Split", "", path + "/qkv_proj/Split", List.of(qkv, g.ints(path + "/qkv_proj/split", d, d, d)),
                Map.of("axis", -1L), 3);                                                   // 3 x [B, T, d]
        List<String> inputs = new java.util.ArrayList<>(List.of(split[0], split[1], split[2],
                g.weightF32(path + "/qkv_bias", bias, 3L * d)));
        if (keyLengths != null) inputs.add(keyLengths);
        return g.ms("MultiHeadAttention", path + "/MultiHeadAttention", inputs, Map.of("num_heads", (long) heads), 1)[0];
    }
}
