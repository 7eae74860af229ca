package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.AudioOps.F32;

/**
 * The diagnostics twin of a domain adapter graph ({@code adapters/<NAME>/adapter_diagnostics.onnx}): the same
 * math as {@link AdapterGraph}, written with standard ops only (MatMul, Softmax) so that the attention
 * probabilities are ordinary tensors it can output. Serving never runs it; the diagnostics endpoint does.
 *
 * <pre>
 * hidden_states [B, N, d] ─▶ gate                 [B, N, 1] (scalar or no gate) or [B, N, d] (channel gate)
 *                         ─▶ delta                [B, N, d]  output_norm(output_proj(h)), before scale and gate
 *                         ─▶ attention_weights.l  [B, H, N, N] softmax(q k^T / sqrt(hd)) of layer l (rows: queries)
 * </pre>
 */
public final class AdapterDiagnosticsGraph {

    /** Output name prefix of the per-layer attention probabilities. */
    public static final String ATTENTION = "attention_weights.";

    private AdapterDiagnosticsGraph() {
    }

    public static void build(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w) {
        int d = cfg.inputDim();
        String x = g.input("hidden_states", F32, "batch", "tokens", (long) d);            // [B, N, d]
        String h = x;
        if (cfg.positionalEncoding().equals("sinusoidal")) h = g.add("/diag/pos_encoding/Add", x, positions(g, x, d));
        for (int l = 0; l < cfg.numLayers(); l++) h = layer(g, cfg, w, l, h);

        String delta = AudioOps.layerNorm(g, "/diag/output_norm",
                AudioOps.linear(g, "/diag/output_proj", h, w.floats("output_proj.weight", d, d), w.floats("output_proj.bias", d), d, d),
                w.floats("output_norm.weight", d), w.floats("output_norm.bias", d), cfg.layerNormEps()); // [B, N, d]
        g.outputAs(delta, "delta", F32, "batch", "tokens", (long) d);

        boolean channel = cfg.useGate() && cfg.gateType().equals("channel");
        String gate;
        if (cfg.useGate()) {
            int gw = channel ? d : 1;
            gate = g.op("Sigmoid", "/diag/gate/Sigmoid", AudioOps.linear(g, "/diag/gate", x,
                    w.floats("gate.weight", gw, d), w.floats("gate.bias", gw), d, gw));      // [B, N, 1] or [B, N, d]
        } else {
            String bn = g.op("Shape", "/diag/gate/Shape", List.of(x), Map.of("start", 0L, "end", 2L));
            String shape = g.op("Concat", "/diag/gate/Concat", List.of(bn, g.ints("/diag/gate/one_dim", 1)), Map.of("axis", 0L));
            gate = g.op("Expand", "/diag/gate/Expand", g.constFloats("/diag/gate/ones", new float[] {1f}, 1, 1, 1), shape); // [B, N, 1]
        }
        g.outputAs(gate, "gate", F32, "batch", "tokens", (long) (channel ? d : 1));
    }

    /** Interleaved sinusoidal encoding [N, d] for the input's N (as {@link AdapterGraph}). */
    private static String positions(GraphBuilder g, String x, int d) {
        if (d % 2 != 0) throw new IllegalArgumentException("sinusoidal positional encoding needs an even input_dim, found " + d);
        String p = "/diag/pos_encoding";
        String n = g.op("Shape", p + "/Shape", List.of(x), Map.of("start", 1L, "end", 2L));           // [1]
        String steps = g.op("Squeeze", p + "/Squeeze", n, g.ints(p + "/axes0", 0));                  // []
        String t = g.op("Range", p + "/Range", g.constInts(p + "/start", new long[] {0}, new long[0]), steps,
                g.constInts(p + "/delta", new long[] {1}, new long[0]));                             // [N]
        t = g.op("Cast", p + "/Cast", List.of(t), Map.of("to", (long) F32));
        t = g.op("Unsqueeze", p + "/Unsqueeze", t, g.ints(p + "/axes1", 1));                         // [N, 1]
        float[] freq = new float[d / 2];
        for (int i = 0; i < d / 2; i++) freq[i] = (float) Math.exp(-Math.log(10000.0) * (2.0 * i) / d);
        String angle = g.mul(p + "/Mul", t, g.constFloats(p + "/frequencies", freq, 1, d / 2));     // [N, d/2]
        String axes2 = g.ints(p + "/axes2", 2);
        String sin = g.op("Unsqueeze", p + "/Sin/Unsqueeze", g.op("Sin", p + "/Sin", angle), axes2);  // [N, d/2, 1]
        String cos = g.op("Unsqueeze", p + "/Cos/Unsqueeze", g.op("Cos", p + "/Cos", angle), axes2);  // [N, d/2, 1]
        String pe = g.op("Concat", p + "/Concat", List.of(sin, cos), Map.of("axis", 2L));             // [N, d/2, 2]
        return g.op("Reshape", p + "/Reshape", pe, g.ints(p + "/shape", -1, d));                     // [N, d]
    }

    private static String layer(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, int l, String h) {
        int d = cfg.inputDim();
        String p = "layers." + l + ".";
        String path = "/diag/layers." + l;
        double eps = cfg.layerNormEps();
        float[] n1w = w.floats(p + "norm1.weight", d), n1b = w.floats(p + "norm1.bias", d);
        float[] n2w = w.floats(p + "norm2.weight", d), n2b = w.floats(p + "norm2.bias", d);
        if (cfg.normFirst()) {
            h = g.add(path + "/Add", h, selfAttention(g, cfg, w, l, path, AudioOps.layerNorm(g, path + "/norm1", h, n1w, n1b, eps)));
            return g.add(path + "/Add_1", h, feedForward(g, cfg, w, p, path, AudioOps.layerNorm(g, path + "/norm2", h, n2w, n2b, eps)));
        }
        h = AudioOps.layerNorm(g, path + "/norm1", g.add(path + "/Add", h, selfAttention(g, cfg, w, l, path, h)), n1w, n1b, eps);
        return AudioOps.layerNorm(g, path + "/norm2", g.add(path + "/Add_1", h, feedForward(g, cfg, w, p, path, h)), n2w, n2b, eps);
    }

    private static String selfAttention(GraphBuilder g, DomainAdapterConfig cfg, TensorSource w, int l, String path, String x) {
        int d = cfg.inputDim(), hd = cfg.headDim(), heads = cfg.numHeads();
        String p = "layers." + l + ".";
        float[] inW = w.floats(p + "self_attn.in_proj_weight", 3L * d, d);   // [3d, d] rows q, k, v
        float[] inB = w.floats(p + "self_attn.in_proj_bias", 3L * d);        // [3d]
        String a = path + "/self_attn";
        String q = AudioOps.linear(g, a + "/q_proj", x, Arrays.copyOfRange(inW, 0, d * d), Arrays.copyOfRange(inB, 0, d), d, d);
        q = g.mul(a + "/q_proj/Mul", q, g.scalar(a + "/scaling", (float) Math.pow(hd, -0.5)));
        String k = AudioOps.linear(g, a + "/k_proj", x, Arrays.copyOfRange(inW, d * d, 2 * d * d), Arrays.copyOfRange(inB, d, 2 * d), d, d);
        String v = AudioOps.linear(g, a + "/v_proj", x, Arrays.copyOfRange(inW, 2 * d * d, 3 * d * d),
                Arrays.copyOfRange(inB, 2 * d, 3 * d), d, d);
        String split = g.ints(a + "/split_shape", 0, 0, heads, hd);
        String qh = g.op("Transpose", a + "/q/Transpose", List.of(g.op("Reshape", a + "/q/Reshape", q, split)),
                Map.of("perm", new long[] {0, 2, 1, 3}));                                  // [B, H, N, hd]
        String kh = g.op("Transpose", a + "/k/Transpose", List.of(g.op("Reshape", a + "/k/Reshape", k, split)),
                Map.of("perm", new long[] {0, 2, 3, 1}));                                  // [B, H, hd, N]
        String vh = g.op("Transpose", a + "/v/Transpose", List.of(g.op("Reshape", a + "/v/Reshape", v, split)),
                Map.of("perm", new long[] {0, 2, 1, 3}));                                  // [B, H, N, hd]
        String probs = g.op("Softmax", a + "/Softmax", List.of(g.op("MatMul", a + "/scores/MatMul", qh, kh)),
                Map.of("axis", -1L));                                                      // [B, H, N, N]
        g.outputAs(probs, ATTENTION + l, F32, "batch", (long) heads, "tokens", "tokens");
        String ctx = g.op("MatMul", a + "/context/MatMul", probs, vh);                   // [B, H, N, hd]
        String ctxT = g.op("Transpose", a + "/context/Transpose", List.of(ctx), Map.of("perm", new long[] {0, 2, 1, 3}));
        ctx = g.op("Reshape", a + "/context/Reshape", ctxT, g.ints(a + "/merge_shape", 0, 0, (long) heads * hd)); // [B, N, d]
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
