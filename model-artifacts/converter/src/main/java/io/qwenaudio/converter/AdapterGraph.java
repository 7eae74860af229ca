package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.AudioOps.F32;

/**
 * A transformer domain adapter as an ONNX graph: {@code hidden_states [B, N, d]} float32 ->
 * {@code adapted [B, N, d]} and {@code gate} ({@code [B, N, 1]} for a scalar gate or no gate, where it is all
 * ones; {@code [B, N, d]} for a channel gate), both float32.
 *
 * <p>Math: {@code h = x + PE} (interleaved sinusoidal, computed in-graph from N, when configured), L
 * {@code nn.TransformerEncoderLayer}s (pre- or post-LN, gelu or relu), {@code delta = output_norm(output_proj(h))},
 * {@code gate = sigmoid(gate(x))} on the adapter input, {@code adapted = x + scale * gate * delta}. Weights are
 * named as in {@code DomainAdapterWeights}. With float16 weight storage the Linear weights are cast to float32
 * in-graph; norms, biases and {@code scale} stay float32.
 *
 * <p>With {@link GraphOps#FUSED} each layer's attention is a packed q/k/v MatMul into
 * {@code com.microsoft.MultiHeadAttention} (no mask: every token of the input is valid), the residual adds are
 * fused with the following LayerNorm as {@code com.microsoft.SkipLayerNormalization} (out_proj / linear2 bias
 * included) and GELU is {@code com.microsoft.Gelu}; {@link GraphOps#STANDARD} writes opset-17 ops only.
 */
public final class AdapterGraph {

    private AdapterGraph() {
    }

    /** The portable graph: standard ops only. */
    public static void build(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w) {
        build(g, cfg, w, GraphOps.STANDARD);
    }

    public static void build(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, GraphOps ops) {
        int d = cfg.inputDim();
        String x = g.input("hidden_states", F32, "batch", "tokens", (long) d);            // [B, N, d]
        String h = x;
        if (cfg.positionalEncoding().equals("sinusoidal")) h = g.add("/adapter/pos_encoding/Add", x, positions(g, x, d));

        if (ops == GraphOps.FUSED) {
            h = fusedLayers(g, cfg, w, h);
        } else {
            for (int l = 0; l < cfg.numLayers(); l++) h = layer(g, cfg, w, l, h);
        }

        String delta = AudioOps.layerNorm(g, "/adapter/output_norm",
                AudioOps.linear(g, "/adapter/output_proj", h, w.floats("output_proj.weight", d, d), w.floats("output_proj.bias", d), d, d),
                w.floats("output_norm.weight", d), w.floats("output_norm.bias", d), cfg.layerNormEps()); // [B, N, d]

        String gate;
        if (cfg.useGate()) {
            int gw = cfg.gateType().equals("channel") ? d : 1;
            gate = g.op("Sigmoid", "/adapter/gate/Sigmoid", AudioOps.linear(g, "/adapter/gate", x,
                    w.floats("gate.weight", gw, d), w.floats("gate.bias", gw), d, gw));       // [B, N, 1] or [B, N, d]
        } else {
            String bn = g.op("Shape", "/adapter/gate/Shape", List.of(x), Map.of("start", 0L, "end", 2L));
            String shape = g.op("Concat", "/adapter/gate/Concat", List.of(bn, g.ints("/adapter/gate/one_dim", 1)), Map.of("axis", 0L));
            gate = g.op("Expand", "/adapter/gate/Expand", g.constFloats("/adapter/gate/ones", new float[] {1f}, 1, 1, 1), shape); // [B, N, 1]
        }
        String scale = g.weightF32("/adapter/scale", w.floats("scale", 1), 1);
        String adapted = g.add("/adapter/Add", x, g.mul("/adapter/Mul_1", g.mul("/adapter/Mul", delta, gate), scale));
        g.outputAs(adapted, "adapted", F32, "batch", "tokens", (long) d);
        g.outputAs(gate, "gate", F32, "batch", "tokens", (long) (cfg.useGate() && cfg.gateType().equals("channel") ? d : 1));
    }

    /** Interleaved sinusoidal encoding [N, d] for the input's N: pe[t, 2i] = sin(t w_i), pe[t, 2i+1] = cos(t w_i). */
    private static String positions(GraphBuilder g, String x, int d) {
        if (d % 2 != 0) throw new IllegalArgumentException("sinusoidal positional encoding needs an even input_dim, found " + d);
        String p = "/adapter/pos_encoding";
        String n = g.op("Shape", p + "/Shape", List.of(x), Map.of("start", 1L, "end", 2L));           // [1]
        String steps = g.op("Squeeze", p + "/Squeeze", n, g.ints(p + "/axes0", 0));                  // []
        String t = g.op("Range", p + "/Range", g.constInts(p + "/start", new long[] {0}, new long[0]), steps,
                g.constInts(p + "/delta", new long[] {1}, new long[0]));                             // [N]
        t = g.op("Cast", p + "/Cast", List.of(t), Map.of("to", (long) F32));
        t = g.op("Unsqueeze", p + "/Unsqueeze", t, g.ints(p + "/axes1", 1));                         // [N, 1]
        float[] freq = new float[d / 2]; // w_i = 10000^(-2i/d)
        for (int i = 0; i < d / 2; i++) freq[i] = (float) Math.exp(-Math.log(10000.0) * (2.0 * i) / d);
        String angle = g.mul(p + "/Mul", t, g.constFloats(p + "/frequencies", freq, 1, d / 2));     // [N, d/2]
        String axes2 = g.ints(p + "/axes2", 2);
        String sin = g.op("Unsqueeze", p + "/Sin/Unsqueeze", g.op("Sin", p + "/Sin", angle), axes2);  // [N, d/2, 1]
        String cos = g.op("Unsqueeze", p + "/Cos/Unsqueeze", g.op("Cos", p + "/Cos", angle), axes2);  // [N, d/2, 1]
        String pe = g.op("Concat", p + "/Concat", List.of(sin, cos), Map.of("axis", 2L));             // [N, d/2, 2]
        return g.op("Reshape", p + "/Reshape", pe, g.ints(p + "/shape", -1, d));                     // [N, d]
    }

    /**
     * All layers in fused ops. Pre-LN ({@code norm_first}): each block's last MatMul (out_proj, linear2) leaves its
     * bias and residual add to the next SkipLayerNormalization, which returns the next block's normed input and the
     * residual stream; after the last layer they are plain Adds. Post-LN: {@code h = norm(h + block(h))} is one
     * SkipLayerNormalization per block.
     */
    private static String fusedLayers(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, String h) {
        int d = cfg.inputDim();
        double eps = cfg.layerNormEps();
        String pending = null, pendingBias = null;    // pre-LN: the last block's MatMul output and bias, not yet added
        for (int l = 0; l < cfg.numLayers(); l++) {
            String p = "layers." + l + ".", path = "/adapter/layers." + l, a = path + "/self_attn";
            float[] n1w = w.floats(p + "norm1.weight", d), n1b = w.floats(p + "norm1.bias", d);
            float[] n2w = w.floats(p + "norm2.weight", d), n2b = w.floats(p + "norm2.bias", d);
            String outBias = g.weightF32(a + "/out_proj/bias", w.floats(p + "self_attn.out_proj.bias", d), d);
            String ffBias = g.weightF32(path + "/linear2/bias", w.floats(p + "linear2.bias", d), d);
            if (cfg.normFirst()) {
                String x;
                if (pending == null) {
                    x = AudioOps.layerNorm(g, path + "/norm1", h, n1w, n1b, eps);
                } else {
                    String[] n = AudioOps.skipLayerNorm(g, path + "/norm1", pending, h, n1w, n1b, pendingBias, eps);
                    x = n[0];
                    h = n[1];
                }
                String[] n = AudioOps.skipLayerNorm(g, path + "/norm2", fusedAttention(g, cfg, w, p, a, x), h, n2w, n2b, outBias, eps);
                h = n[1];
                pending = fusedFeedForward(g, cfg, w, p, path, n[0]);
                pendingBias = ffBias;
            } else {
                h = AudioOps.skipLayerNorm(g, path + "/norm1", fusedAttention(g, cfg, w, p, a, h), h, n1w, n1b, outBias, eps)[0];
                h = AudioOps.skipLayerNorm(g, path + "/norm2", fusedFeedForward(g, cfg, w, p, path, h), h, n2w, n2b, ffBias, eps)[0];
            }
        }
        if (pending == null) return h;
        String last = "/adapter/layers." + (cfg.numLayers() - 1);
        return g.add(last + "/Add_1", h, g.add(last + "/linear2/Add", pending, pendingBias)); // [B, N, d]
    }

    /** MultiHeadAttention over x [B, N, d]; returns out_proj's MatMul [B, N, d] without its bias. */
    private static String fusedAttention(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, String p, String a, String x) {
        int d = cfg.inputDim();
        float[] inW = w.floats(p + "self_attn.in_proj_weight", 3L * d, d);   // [3d, d] rows q, k, v
        float[] inB = w.floats(p + "self_attn.in_proj_bias", 3L * d);        // [3d]
        String ctx = AudioOps.multiHeadAttention(g, a, x,
                java.util.Arrays.copyOfRange(inW, 0, d * d), java.util.Arrays.copyOfRange(inB, 0, d),
                java.util.Arrays.copyOfRange(inW, d * d, 2 * d * d), java.util.Arrays.copyOfRange(inB, d, 2 * d),
                java.util.Arrays.copyOfRange(inW, 2 * d * d, 3 * d * d), java.util.Arrays.copyOfRange(inB, 2 * d, 3 * d),
                cfg.numHeads(), cfg.headDim(), null);                                // [B, N, d]
        return AudioOps.matmul(g, a + "/out_proj", ctx, w.floats(p + "self_attn.out_proj.weight", d, d), d, d);
    }

    /** linear1, activation and linear2's MatMul [B, N, d] without its bias. */
    private static String fusedFeedForward(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, String p, String path, String x) {
        int d = cfg.inputDim(), f = cfg.ffDim();
        String a = AudioOps.linear(g, path + "/linear1", x, w.floats(p + "linear1.weight", f, d), w.floats(p + "linear1.bias", f), d, f);
        a = cfg.activation().equals("relu") ? g.op("Relu", path + "/activation/Relu", a) : AudioOps.fusedGelu(g, path + "/activation", a);
        return AudioOps.matmul(g, path + "/linear2", a, w.floats(p + "linear2.weight", d, f), f, d);
    }

    private static String layer(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, int l, String h) {
        int d = cfg.inputDim();
        String p = "layers." + l + ".";
        String path = "/adapter/layers." + l;
        double eps = cfg.layerNormEps();
        float[] n1w = w.floats(p + "norm1.weight", d), n1b = w.floats(p + "norm1.bias", d);
        float[] n2w = w.floats(p + "norm2.weight", d), n2b = w.floats(p + "norm2.bias", d);
        if (cfg.normFirst()) {
            h = g.add(path + "/Add", h, selfAttention(g, cfg, w, p, path, AudioOps.layerNorm(g, path + "/norm1", h, n1w, n1b, eps)));
            return g.add(path + "/Add_1", h, feedForward(g, cfg, w, p, path, AudioOps.layerNorm(g, path + "/norm2", h, n2w, n2b, eps)));
        }
        h = AudioOps.layerNorm(g, path + "/norm1", g.add(path + "/Add", h, selfAttention(g, cfg, w, p, path, h)), n1w, n1b, eps);
        return AudioOps.layerNorm(g, path + "/norm2", g.add(path + "/Add_1", h, feedForward(g, cfg, w, p, path, h)), n2w, n2b, eps);
    }

    private static String selfAttention(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, String p, String path, String x) {
        int d = cfg.inputDim(), hd = cfg.headDim();
        float[] inW = w.floats(p + "self_attn.in_proj_weight", 3L * d, d);   // [3d, d] rows q, k, v
        float[] inB = w.floats(p + "self_attn.in_proj_bias", 3L * d);        // [3d]
        String a = path + "/self_attn";
        String q = AudioOps.linear(g, a + "/q_proj", x, java.util.Arrays.copyOfRange(inW, 0, d * d),
                java.util.Arrays.copyOfRange(inB, 0, d), d, d);
        q = g.mul(a + "/q_proj/Mul", q, g.scalar(a + "/scaling", (float) Math.pow(hd, -0.5)));
        String k = AudioOps.linear(g, a + "/k_proj", x, java.util.Arrays.copyOfRange(inW, d * d, 2 * d * d),
                java.util.Arrays.copyOfRange(inB, d, 2 * d), d, d);
        String v = AudioOps.linear(g, a + "/v_proj", x, java.util.Arrays.copyOfRange(inW, 2 * d * d, 3 * d * d),
                java.util.Arrays.copyOfRange(inB, 2 * d, 3 * d), d, d);
        String ctx = AudioOps.attention(g, a, q, k, v, cfg.numHeads(), hd, null);    // [B, N, d]
        return AudioOps.linear(g, a + "/out_proj", ctx, w.floats(p + "self_attn.out_proj.weight", d, d),
                w.floats(p + "self_attn.out_proj.bias", d), d, d);
    }

    private static String feedForward(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, String p, String path, String x) {
        int d = cfg.inputDim(), f = cfg.ffDim();
        String a = AudioOps.linear(g, path + "/linear1", x, w.floats(p + "linear1.weight", f, d), w.floats(p + "linear1.bias", f), d, f);
        a = cfg.activation().equals("relu") ? g.op("Relu", path + "/activation/Relu", a) : AudioOps.gelu(g, path + "/activation", a);
        return AudioOps.linear(g, path + "/linear2", a, w.floats(p + "linear2.weight", d, f), w.floats(p + "linear2.bias", d), f, d);
    }
}
