package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;

import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.TextOps.F32;

/**
 * The Qwen2 text decoder as one ONNX graph used both for prefill and for single-step decode, built from standard
 * opset-17 ops only (MatMul, ReduceMean, Where, Softmax, Cos/Sin, ...), so any execution provider runs it.
 *
 * <p>Inputs: {@code inputs_embeds [B, S, H]} float32, {@code attention_mask [B, P+S]} int64 (1 = real token),
 * {@code position_ids [B, S]} int64 and {@code past_key_values.{i}.key / .value [B, kvH, P, D]} float32 (P may be
 * 0). Outputs: {@code logits [B, 1, V]} of the last position only, {@code present.{i}.key / .value
 * [B, kvH, P+S, D]} (RoPE applied to keys) and {@code hidden_states.{0..L} [B, S, H]} with transformers'
 * {@code output_hidden_states} meaning: the input embeddings, the raw outputs of layers 0..L-2, and the
 * final-normed output of the last layer.
 *
 * <p>Attention mask: query j (absolute index P+j) may see key t when {@code t <= P+j} and
 * {@code attention_mask[b, t] == 1}. Masked scores are <em>replaced</em> (Where, not added) by the float32
 * minimum -3.4028235e38, the value transformers' eager path uses; a fully masked row (a left-padding query)
 * then softmaxes to a uniform, finite distribution instead of NaN. Its output is meaningless but finite.
 *
 * <p>GQA without copying K/V: queries are laid out as [B, kvH, rep, S, D] and keys as [B, kvH, 1, T, D], so
 * MatMul broadcasting pairs head {@code h} with KV head {@code h / rep} as transformers' {@code repeat_kv}.
 *
 * <p>Weights: linear weights pre-transposed to [in, out]. With {@link GraphBuilder.WeightType#FLOAT16} the
 * linear weights (and lm_head) are stored as float16 and Cast to float32 in the graph, so all arithmetic stays
 * float32; RMSNorm weights and q/k/v biases are always stored as float32.
 */
public final class DecoderGraph {

    private static final String P = "language_model.model.";
    /** float32 minimum, used in place of masked attention scores. */
    public static final float MASK_VALUE = -3.4028235e38f;

    private DecoderGraph() {
    }

    public static void build(GraphBuilder g, TextConfig cfg, TensorSource w) {
        int h = cfg.hiddenSize(), nH = cfg.numAttentionHeads(), kvH = cfg.numKeyValueHeads(), d = cfg.headDim();
        int ffn = cfg.intermediateSize(), v = cfg.vocabSize(), layers = cfg.numHiddenLayers();
        if (nH % kvH != 0) {
            throw new IllegalArgumentException("num_attention_heads " + nH + " is not a multiple of num_key_value_heads " + kvH);
        }
        if (!"silu".equals(cfg.hiddenAct())) {
            throw new IllegalArgumentException("hidden_act '" + cfg.hiddenAct() + "' is not supported, expected 'silu'");
        }
        int rep = nH / kvH;
        int i64 = TensorProto.DataType.INT64_VALUE;

        String x = g.input("inputs_embeds", F32, "batch", "sequence", (long) h);
        String mask = g.input("attention_mask", i64, "batch", "total_sequence");
        String posIds = g.input("position_ids", i64, "batch", "sequence");
        String[] pastK = new String[layers], pastV = new String[layers];
        for (int i = 0; i < layers; i++) {
            pastK[i] = g.input("past_key_values." + i + ".key", F32, "batch", (long) kvH, "past_sequence", (long) d);
            pastV[i] = g.input("past_key_values." + i + ".value", F32, "batch", (long) kvH, "past_sequence", (long) d);
        }

        // ---- shared constants ----
        String eps = g.scalar("/language_model/rms_norm_eps", (float) cfg.rmsNormEps());
        String scale = g.scalar("/language_model/attn_scale", (float) Math.pow(d, -0.5));
        String negBig = g.scalar("/language_model/mask_value", MASK_VALUE);
        String zero = g.constInts("/language_model/zero", new long[] {0});
        String one = g.constInts("/language_model/one", new long[] {1});
        String ax0 = g.ints("/language_model/axes_0", 0);
        String ax1 = g.ints("/language_model/axes_1", 1);
        String ax2 = g.ints("/language_model/axes_2", 2);
        String ax12 = g.ints("/language_model/axes_1_2", 1, 2);
        String ax123 = g.ints("/language_model/axes_1_2_3", 1, 2, 3);
        String axLast = g.ints("/language_model/axes_last", -1);

        // ---- causal + padding mask: allowed [B, 1, 1, S, T] ----
        String m = "/language_model/mask";
        String sLen = g.op("Gather", m + "/S", List.of(g.op("Shape", m + "/ShapeX", x), one), Map.of("axis", 0L));       // scalar S
        String tLen = g.op("Gather", m + "/T", List.of(g.op("Shape", m + "/ShapeMask", mask), one), Map.of("axis", 0L)); // scalar T
        String pLen = g.op("Sub", m + "/P", tLen, sLen);
        String keyIdx = g.op("Range", m + "/KeyIdx", zero, tLen, one);   // [T]
        String qIdx = g.op("Range", m + "/QueryIdx", pLen, tLen, one);   // [S]  absolute indices P..T-1
        String causal = g.op("LessOrEqual", m + "/Causal",
                g.op("Unsqueeze", m + "/KeyRow", keyIdx, ax0),              // [1, T]
                g.op("Unsqueeze", m + "/QueryCol", qIdx, ax1));             // [S, 1] -> [S, T]
        String pad = g.op("Unsqueeze", m + "/Pad", g.op("Cast", m + "/PadBool", List.of(mask), Map.of("to", (long) TensorProto.DataType.BOOL_VALUE)), ax123); // [B,1,1,1,T]
        String allowed = g.op("And", m + "/And", pad, causal);           // [B, 1, 1, S, T]

        // ---- RoPE tables: cos/sin [B, S, D] ----
        String r = "/language_model/rotary_emb";
        float[] invFreq = new float[d / 2];
        for (int i = 0; i < invFreq.length; i++) invFreq[i] = (float) (1.0 / Math.pow(cfg.ropeTheta(), (float) (2 * i) / d));
        String inv = g.constFloats(r + "/inv_freq", invFreq, d / 2);
        String pos = g.op("Unsqueeze", r + "/Unsqueeze",
                g.op("Cast", r + "/Cast", List.of(posIds), Map.of("to", (long) F32)), ax2); // [B, S, 1]
        String freqs = g.mul(r + "/Mul", pos, inv);                                          // [B, S, D/2]
        String emb = g.op("Concat", r + "/Concat", List.of(freqs, freqs), Map.of("axis", -1L)); // [B, S, D]
        String cos = g.op("Cos", r + "/Cos", emb), sin = g.op("Sin", r + "/Sin", emb);
        String cosK = g.op("Unsqueeze", r + "/CosK", cos, ax1), sinK = g.op("Unsqueeze", r + "/SinK", sin, ax1);   // [B,1,S,D]
        String cosQ = g.op("Unsqueeze", r + "/CosQ", cos, ax12), sinQ = g.op("Unsqueeze", r + "/SinQ", sin, ax12); // [B,1,1,S,D]
        String half0 = g.ints(r + "/half_start", 0), halfMid = g.ints(r + "/half_mid", d / 2), halfEnd = g.ints(r + "/half_end", d);

        String qShape = g.ints("/language_model/q_shape", 0, 0, kvH, rep, d);
        String kvShape = g.ints("/language_model/kv_shape", 0, 0, kvH, d);
        String mergeShape = g.ints("/language_model/merge_shape", 0, 0, (long) nH * d);

        // ---- layers ----
        String hs = x;
        g.outputAs(x, "hidden_states.0", F32, "batch", "sequence", (long) h);
        for (int li = 0; li < layers; li++) {
            String l = P + "layers." + li + ".";
            String path = "/language_model/layers." + li;
            String a = TextOps.rmsNorm(g, path + "/input_layernorm", hs,
                    g.weightF32(l + "input_layernorm.weight", w.floats(l + "input_layernorm.weight", h), h), eps);

            String sa = path + "/self_attn";
            String q = linearBias(g, sa + "/q_proj", a, w, l + "self_attn.q_proj", nH * d, h);  // [B, S, nH*D]
            String k = linearBias(g, sa + "/k_proj", a, w, l + "self_attn.k_proj", kvH * d, h); // [B, S, kvH*D]
            String vv = linearBias(g, sa + "/v_proj", a, w, l + "self_attn.v_proj", kvH * d, h);

            q = g.op("Transpose", sa + "/q/Transpose", List.of(g.op("Reshape", sa + "/q/Reshape", q, qShape)),
                    Map.of("perm", new long[] {0, 2, 3, 1, 4}));                                  // [B, kvH, rep, S, D]
            k = g.op("Transpose", sa + "/k/Transpose", List.of(g.op("Reshape", sa + "/k/Reshape", k, kvShape)),
                    Map.of("perm", new long[] {0, 2, 1, 3}));                                     // [B, kvH, S, D]
            vv = g.op("Transpose", sa + "/v/Transpose", List.of(g.op("Reshape", sa + "/v/Reshape", vv, kvShape)),
                    Map.of("perm", new long[] {0, 2, 1, 3}));                                     // [B, kvH, S, D]
            q = rope(g, sa + "/q/rotary", q, cosQ, sinQ, half0, halfMid, halfEnd, axLast);
            k = rope(g, sa + "/k/rotary", k, cosK, sinK, half0, halfMid, halfEnd, axLast);

            String presentK = g.op("Concat", sa + "/present_key", List.of(pastK[li], k), Map.of("axis", 2L));  // [B, kvH, T, D]
            String presentV = g.op("Concat", sa + "/present_value", List.of(pastV[li], vv), Map.of("axis", 2L));
            g.outputAs(presentK, "present." + li + ".key", F32, "batch", (long) kvH, "total_sequence", (long) d);
            g.outputAs(presentV, "present." + li + ".value", F32, "batch", (long) kvH, "total_sequence", (long) d);

            String kT = g.op("Unsqueeze", sa + "/kT/Unsqueeze",
                    g.op("Transpose", sa + "/kT/Transpose", List.of(presentK), Map.of("perm", new long[] {0, 1, 3, 2})), ax2); // [B,kvH,1,D,T]
            String scores = g.mul(sa + "/Scale", g.op("MatMul", sa + "/QK/MatMul", q, kT), scale);    // [B, kvH, rep, S, T]
            scores = g.op("Where", sa + "/Mask/Where", allowed, scores, negBig);
            String probs = g.op("Softmax", sa + "/Softmax", List.of(scores), Map.of("axis", -1L));
            String v5 = g.op("Unsqueeze", sa + "/v5/Unsqueeze", presentV, ax2);                      // [B, kvH, 1, T, D]
            String ctx = g.op("MatMul", sa + "/PV/MatMul", probs, v5);                               // [B, kvH, rep, S, D]
            ctx = g.op("Transpose", sa + "/ctx/Transpose", List.of(ctx), Map.of("perm", new long[] {0, 3, 1, 2, 4})); // [B,S,kvH,rep,D]
            ctx = g.op("Reshape", sa + "/ctx/Reshape", ctx, mergeShape);                              // [B, S, nH*D]
            String o = g.matmul(sa + "/o_proj", ctx, TextOps.linearWeight(g, l + "self_attn.o_proj.weight_t",
                    w.floats(l + "self_attn.o_proj.weight", h, nH * d), h, nH * d));
            hs = g.add(path + "/attn_residual/Add", hs, o);

            String mp = path + "/mlp";
            String xm = TextOps.rmsNorm(g, path + "/post_attention_layernorm", hs,
                    g.weightF32(l + "post_attention_layernorm.weight", w.floats(l + "post_attention_layernorm.weight", h), h), eps);
            String gate = g.matmul(mp + "/gate_proj", xm, TextOps.linearWeight(g, l + "mlp.gate_proj.weight_t",
                    w.floats(l + "mlp.gate_proj.weight", ffn, h), ffn, h));                          // [B, S, F]
            String up = g.matmul(mp + "/up_proj", xm, TextOps.linearWeight(g, l + "mlp.up_proj.weight_t",
                    w.floats(l + "mlp.up_proj.weight", ffn, h), ffn, h));
            String silu = g.mul(mp + "/act_fn/Mul", gate, g.op("Sigmoid", mp + "/act_fn/Sigmoid", gate));
            String down = g.matmul(mp + "/down_proj", g.mul(mp + "/Mul", silu, up), TextOps.linearWeight(g,
                    l + "mlp.down_proj.weight_t", w.floats(l + "mlp.down_proj.weight", h, ffn), h, ffn)); // [B, S, H]
            hs = g.add(path + "/mlp_residual/Add", hs, down);
            if (li < layers - 1) g.outputAs(hs, "hidden_states." + (li + 1), F32, "batch", "sequence", (long) h);
        }

        // ---- final norm, last position, lm_head ----
        String normed = TextOps.rmsNorm(g, "/language_model/norm", hs,
                g.weightF32(P + "norm.weight", w.floats(P + "norm.weight", h), h), eps);
        g.outputAs(normed, "hidden_states." + layers, F32, "batch", "sequence", (long) h);
        String last = g.op("Slice", "/language_model/last_position/Slice", normed,
                g.ints("/language_model/last_start", -1), g.ints("/language_model/last_end", Long.MAX_VALUE), ax1); // [B, 1, H]
        String headName = w.has("language_model.lm_head.weight") || !cfg.tieWordEmbeddings()
                ? "language_model.lm_head.weight" : P + "embed_tokens.weight";
        // lm_head stays [V, H] as stored and streams into the data file (2.5 GB in fp32 for the real model, no
        // transposed copy): Gemm with transB over the last position, reshaped back to [B, 1, V]
        w.requireShape(headName, v, h);
        String head = TextOps.asF32(g, g.weightStreamed("language_model.lm_head.weight", w, headName, v, h)); // [V, H]
        String last2d = g.op("Reshape", "/lm_head/Reshape", last, g.ints("/lm_head/shape_2d", -1, h));     // [B, H]
        String gemm = g.op("Gemm", "/lm_head/Gemm", List.of(last2d, head), Map.of("transB", 1L));           // [B, V]
        String logits = g.op("Reshape", "/lm_head/Reshape_1", gemm, g.ints("/lm_head/shape_3d", -1, 1, v)); // [B, 1, V]
        g.outputAs(logits, "logits", F32, "batch", 1L, (long) v);
    }

    /** x W^T + b with the weight pre-transposed to [in, out]; the bias stays float32. */
    private static String linearBias(GraphBuilder g, String path, String x, TensorSource w, String prefix, int out, int in) {
        String wt = TextOps.linearWeight(g, prefix + ".weight_t", w.floats(prefix + ".weight", out, in), out, in);
        String b = g.weightF32(prefix + ".bias", w.floats(prefix + ".bias", out), out);
        return g.add(path + "/Add", g.matmul(path, x, wt), b);
    }

    /** x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x[D/2:], x[:D/2]) on the last axis. */
    private static String rope(GraphBuilder g, String path, String x, String cos, String sin,
                               String half0, String halfMid, String halfEnd, String axLast) {
        String x1 = g.op("Slice", path + "/Slice_1", x, half0, halfMid, axLast);
        String x2 = g.op("Slice", path + "/Slice_2", x, halfMid, halfEnd, axLast);
        String rot = g.op("Concat", path + "/Concat", List.of(g.op("Neg", path + "/Neg", x2), x1), Map.of("axis", -1L));
        return g.add(path + "/Add", g.mul(path + "/MulCos", x, cos), g.mul(path + "/MulSin", rot, sin));
    }
}
