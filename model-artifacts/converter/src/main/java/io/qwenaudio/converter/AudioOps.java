package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;

import java.util.List;
import java.util.Map;

/**
 * Graph-building functions shared by the audio-side graphs (encoder, projector, domain adapter): Linear layers
 * with pre-transposed weights, LayerNormalization, exact GELU and multi-head attention. Weights stored as
 * float16 are cast to float32 right after loading, so all compute and graph I/O stay float32.
 */
final class AudioOps {

    static final int F32 = TensorProto.DataType.FLOAT_VALUE;
    static final int I64 = TensorProto.DataType.INT64_VALUE;

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
}
