package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;

import java.util.List;
import java.util.Map;

/** Small graph-building helpers shared by the text graphs: casts, RMSNorm, transposed linear weights. */
final class TextOps {

    static final int F32 = TensorProto.DataType.FLOAT_VALUE;

    private TextOps() {
    }

    /** Casts a stored weight to float32 when the builder stores float16 (graph I/O and compute stay float32). */
    static String asF32(GraphBuilder g, String weight) {
        if (g.weightType() != GraphBuilder.WeightType.FLOAT16) return weight;
        return g.op("Cast", weight + "/Cast", List.of(weight), Map.of("to", (long) F32));
    }

    /** A PyTorch Linear weight [out, in] stored transposed as [in, out] (float32 at runtime). */
    static String linearWeight(GraphBuilder g, String name, float[] w, int out, int in) {
        float[] t = new float[w.length]; // [in, out]
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) t[i * out + o] = w[o * in + i];
        return asF32(g, g.weight(name, t, in, out));
    }

    /** x * rsqrt(mean(x^2, -1) + eps) * weight over the last axis, in float32. */
    static String rmsNorm(GraphBuilder g, String path, String x, String weight, String eps) {
        String sq = g.mul(path + "/Pow", x, x);
        String mean = g.op("ReduceMean", path + "/ReduceMean", List.of(sq), Map.of("axes", new long[] {-1}, "keepdims", 1L));
        String rstd = g.op("Reciprocal", path + "/Reciprocal", g.op("Sqrt", path + "/Sqrt", g.add(path + "/Add", mean, eps)));
        return g.mul(path + "/Mul_1", g.mul(path + "/Mul", x, rstd), weight);
    }
}
