package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;

import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.TextOps.F32;

/**
 * The Qwen2 text decoder as one ONNX graph used both for prefill and for single-step decode, in one of two op sets
 * with the same inputs and outputs ({@link GraphOps}): {@code standard} opset-17 ops only (MatMul, ReduceMean,
 * Where, Softmax, Cos/Sin, ...), which any runtime runs, or {@code fused} ONNX Runtime contrib ops (see
 * {@link #makeFusedLayer}).
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
 *
 * <p>Fused op set (the default): RMSNorm as {@code SimplifiedLayerNormalization} (first layer) and
 * {@code com.microsoft.SkipSimplifiedLayerNormalization} (residual add fused; its sum output is the residual
 * stream and the {@code hidden_states.*} outputs), q/k/v as one packed MatMul, attention as
 * {@code com.microsoft.GroupQueryAttention} (MHA when kv heads = heads) with rotary inside ({@code do_rotary},
 * cos/sin caches [max_position_embeddings, D/2], positions from {@code position_ids}); the KV cache keeps the
 * layout above ([B, kvH, T, D], GroupQueryAttention's BNSH without a shared buffer). GroupQueryAttention's
 * {@code seqlens_k} is {@code T - 1} for every row and {@code total_sequence_length} is T, both computed in the
 * graph from the attention mask's shape; padding (left or right) is an additive {@code attention_bias}
 * [B, 1, S, T] made from the mask (0 where allowed, the dtype's lowest value where padded), so the mask keeps
 * its meaning. Where the CPU kernel cannot run a shape (head_size not a multiple of 16 with rotary), the layer
 * falls back to the standard attention block and the graph's recorded op set says which ops remain.
 * With {@link Dtype#FP16} the fused graph computes in float16 ({@code inputs_embeds} Cast once on entry,
 * {@code logits} and {@code hidden_states.*} Cast back to float32; the KV cache inputs and outputs are float16);
 * with {@link Dtype#INT4}/{@link Dtype#INT8} the q/k/v, o, gate, up and down projections are
 * {@code com.microsoft.MatMulNBits} ({@link BlockQuant}) and lm_head is 8-bit MatMulNBits.
 */
public final class DecoderGraph {

    private static final String P = "language_model.model.";
    private static final String LM = "/language_model";
    /** float32 minimum, used in place of masked attention scores. */
    public static final float MASK_VALUE = -3.4028235e38f;
    /** float16 lowest, the masked-key bias of float16 graphs. */
    static final float MASK_VALUE_FP16 = -65504f;
    private static final int I64 = TensorProto.DataType.INT64_VALUE;
    private static final int I32 = TensorProto.DataType.INT32_VALUE;
    private static final int U8 = TensorProto.DataType.UINT8_VALUE;
    /** MatMulNBits block size (input values per scale). */
    static final int QUANT_BLOCK = 32;

    private final GraphBuilder g;
    private final TextConfig cfg;
    private final TensorSource w;
    private final GraphOps ops;
    private final Dtype dtype;
    private final int h, nH, kvH, d, ffn, v, layers, rep;
    /** Element type of activations, KV cache and float weights inside the graph. */
    private final int t;

    // values shared by the layers, made by the make* blocks
    private String x, mask, posIds;
    private String[] pastK, pastV;
    private String eps, scale, negBig, ax1, ax2, axLast;
    private String allowed;                            // standard: [B, 1, 1, S, T] bool
    private String cosQ, sinQ, cosK, sinK, half0, halfMid, halfEnd;
    private String qShape, kvShape, mergeShape;
    private String seqlensK, totalLen, cosCache, sinCache, attnBias; // fused

    private DecoderGraph(GraphBuilder g, TextConfig cfg, TensorSource w, GraphOps ops, Dtype dtype) {
        this.g = g;
        this.cfg = cfg;
        this.w = w;
        this.ops = ops;
        this.dtype = dtype;
        h = cfg.hiddenSize();
        nH = cfg.numAttentionHeads();
        kvH = cfg.numKeyValueHeads();
        d = cfg.headDim();
        ffn = cfg.intermediateSize();
        v = cfg.vocabSize();
        layers = cfg.numHiddenLayers();
        if (nH % kvH != 0) {
            throw new IllegalArgumentException("num_attention_heads " + nH + " is not a multiple of num_key_value_heads " + kvH);
        }
        if (!"silu".equals(cfg.hiddenAct())) {
            throw new IllegalArgumentException("hidden_act '" + cfg.hiddenAct() + "' is not supported, expected 'silu'");
        }
        if (ops == GraphOps.STANDARD && dtype != Dtype.FP32 && dtype != Dtype.FP16) {
            throw new IllegalArgumentException("--dtype " + dtype.label() + " needs --graph-ops fused (MatMulNBits / "
                    + "half-precision kernels); with --graph-ops standard use fp32 or fp16");
        }
        rep = nH / kvH;
        t = ops == GraphOps.FUSED && dtype == Dtype.FP16 ? TensorProto.DataType.FLOAT16_VALUE
                : ops == GraphOps.FUSED && dtype == Dtype.BF16 ? TensorProto.DataType.BFLOAT16_VALUE : F32;
    }

    /** Today's portable graph: standard ops, weights stored as the builder's weight type. */
    public static void build(GraphBuilder g, TextConfig cfg, TensorSource w) {
        build(g, cfg, w, GraphOps.STANDARD, Dtype.of(g.weightType()));
    }

    /**
     * Builds the decoder with the given op set and dtype into {@code g} (whose weight type must be
     * {@link Dtype#weightType()}) and labels it for the manifest.
     */
    public static void build(GraphBuilder g, TextConfig cfg, TensorSource w, GraphOps ops, Dtype dtype) {
        DecoderGraph b = new DecoderGraph(g, cfg, w, ops, dtype);
        b.makeInputs();
        b.makeConstants();
        if (ops == GraphOps.FUSED) {
            b.makeFusedAttentionInputs();
        }
        if (ops == GraphOps.STANDARD || b.anyStandardAttention()) {
            b.makeMask();
            b.makeRotary();
        }
        String hs = ops == GraphOps.FUSED ? b.makeFusedLayers() : b.makeStandardLayers();
        b.makeHead(hs);
        g.describe(dtype.label(), ops.label());
    }

    /** Whether GroupQueryAttention (rotary inside) runs this head size on the CPU; otherwise attention stays standard. */
    static boolean fusedAttentionFits(int headDim) {
        return headDim % 16 == 0; // GroupQueryAttention on CPU: head_size % 8, and % 16 with do_rotary
    }

    private boolean anyStandardAttention() {
        return !fusedAttentionFits(d);
    }

    // ---- inputs and shared constants ----

    private void makeInputs() {
        x = g.input("inputs_embeds", F32, "batch", "sequence", (long) h);
        mask = g.input("attention_mask", I64, "batch", "total_sequence");
        posIds = g.input("position_ids", I64, "batch", "sequence");
        pastK = new String[layers];
        pastV = new String[layers];
        for (int i = 0; i < layers; i++) {
            pastK[i] = g.input("past_key_values." + i + ".key", t, "batch", (long) kvH, "past_sequence", (long) d);
            pastV[i] = g.input("past_key_values." + i + ".value", t, "batch", (long) kvH, "past_sequence", (long) d);
        }
        g.outputAs(x, "hidden_states.0", F32, "batch", "sequence", (long) h);
    }

    private void makeConstants() {
        eps = g.scalar(LM + "/rms_norm_eps", (float) cfg.rmsNormEps());
        scale = g.scalar(LM + "/attn_scale", (float) Math.pow(d, -0.5));
        negBig = g.scalar(LM + "/mask_value", MASK_VALUE);
        ax1 = g.ints(LM + "/axes_1", 1);
        ax2 = g.ints(LM + "/axes_2", 2);
        axLast = g.ints(LM + "/axes_last", -1);
    }

    // ---- standard blocks ----

    /** Causal + padding mask: allowed [B, 1, 1, S, T]; query j (absolute P+j) sees key t when t <= P+j and mask[t] == 1. */
    private void makeMask() {
        String m = LM + "/mask";
        String zero = g.constInts(LM + "/zero", new long[] {0});
        String one = g.constInts(LM + "/one", new long[] {1});
        String ax0 = g.ints(LM + "/axes_0", 0);
        String ax123 = g.ints(LM + "/axes_1_2_3", 1, 2, 3);
        String sLen = g.op("Gather", m + "/S", List.of(g.op("Shape", m + "/ShapeX", x), one), Map.of("axis", 0L));       // scalar S
        String tLen = g.op("Gather", m + "/T", List.of(g.op("Shape", m + "/ShapeMask", mask), one), Map.of("axis", 0L)); // scalar T
        String pLen = g.op("Sub", m + "/P", tLen, sLen);
        String keyIdx = g.op("Range", m + "/KeyIdx", zero, tLen, one);   // [T]
        String qIdx = g.op("Range", m + "/QueryIdx", pLen, tLen, one);   // [S]  absolute indices P..T-1
        String causal = g.op("LessOrEqual", m + "/Causal",
                g.op("Unsqueeze", m + "/KeyRow", keyIdx, ax0),              // [1, T]
                g.op("Unsqueeze", m + "/QueryCol", qIdx, ax1));             // [S, 1] -> [S, T]
        String pad = g.op("Unsqueeze", m + "/Pad", g.op("Cast", m + "/PadBool", List.of(mask),
                Map.of("to", (long) TensorProto.DataType.BOOL_VALUE)), ax123); // [B,1,1,1,T]
        allowed = g.op("And", m + "/And", pad, causal);                  // [B, 1, 1, S, T]
    }

    /** RoPE tables cos/sin [B, S, D] from position_ids, unsqueezed for q [B,1,1,S,D] and k [B,1,S,D]. */
    private void makeRotary() {
        String r = LM + "/rotary_emb";
        String ax12 = g.ints(LM + "/axes_1_2", 1, 2);
        String inv = g.constFloats(r + "/inv_freq", invFreq(), d / 2);
        String pos = g.op("Unsqueeze", r + "/Unsqueeze",
                g.op("Cast", r + "/Cast", List.of(posIds), Map.of("to", (long) F32)), ax2); // [B, S, 1]
        String freqs = g.mul(r + "/Mul", pos, inv);                                          // [B, S, D/2]
        String emb = g.op("Concat", r + "/Concat", List.of(freqs, freqs), Map.of("axis", -1L)); // [B, S, D]
        String cos = g.op("Cos", r + "/Cos", emb), sin = g.op("Sin", r + "/Sin", emb);
        cosK = g.op("Unsqueeze", r + "/CosK", cos, ax1);
        sinK = g.op("Unsqueeze", r + "/SinK", sin, ax1);   // [B,1,S,D]
        cosQ = g.op("Unsqueeze", r + "/CosQ", cos, ax12);
        sinQ = g.op("Unsqueeze", r + "/SinQ", sin, ax12);  // [B,1,1,S,D]
        half0 = g.ints(r + "/half_start", 0);
        halfMid = g.ints(r + "/half_mid", d / 2);
        halfEnd = g.ints(r + "/half_end", d);
        qShape = g.ints(LM + "/q_shape", 0, 0, kvH, rep, d);
        kvShape = g.ints(LM + "/kv_shape", 0, 0, kvH, d);
        mergeShape = g.ints(LM + "/merge_shape", 0, 0, (long) nH * d);
    }

    private float[] invFreq() {
        float[] invFreq = new float[d / 2];
        for (int i = 0; i < invFreq.length; i++) invFreq[i] = (float) (1.0 / Math.pow(cfg.ropeTheta(), (float) (2 * i) / d));
        return invFreq;
    }

    private String makeStandardLayers() {
        String hs = x;
        for (int li = 0; li < layers; li++) {
            String l = P + "layers." + li + ".", path = LM + "/layers." + li;
            String a = TextOps.rmsNorm(g, path + "/input_layernorm", hs, normWeight(l + "input_layernorm.weight"), eps);
            hs = g.add(path + "/attn_residual/Add", hs, makeStandardAttention(li, a));
            String xm = TextOps.rmsNorm(g, path + "/post_attention_layernorm", hs,
                    normWeight(l + "post_attention_layernorm.weight"), eps);
            hs = g.add(path + "/mlp_residual/Add", hs, makeMlp(li, xm));
            if (li < layers - 1) g.outputAs(hs, "hidden_states." + (li + 1), F32, "batch", "sequence", (long) h);
        }
        return TextOps.rmsNorm(g, LM + "/norm", hs, normWeight(P + "norm.weight"), eps);
    }

    /**
     * Self-attention of layer {@code li} in standard ops on the normed input a [B, S, H]; writes present.{li}.*
     * and returns o_proj's output [B, S, H]. GQA without copying K/V: queries as [B, kvH, rep, S, D], keys as
     * [B, kvH, 1, T, D], so MatMul broadcasting pairs head h with KV head h / rep as transformers' repeat_kv.
     */
    private String makeStandardAttention(int li, String a) {
        String l = P + "layers." + li + ".", sa = LM + "/layers." + li + "/self_attn";
        String q = linearBias(sa + "/q_proj", a, l + "self_attn.q_proj", nH * d, h);  // [B, S, nH*D]
        String k = linearBias(sa + "/k_proj", a, l + "self_attn.k_proj", kvH * d, h); // [B, S, kvH*D]
        String vv = linearBias(sa + "/v_proj", a, l + "self_attn.v_proj", kvH * d, h);
        q = g.op("Transpose", sa + "/q/Transpose", List.of(g.op("Reshape", sa + "/q/Reshape", q, qShape)),
                Map.of("perm", new long[] {0, 2, 3, 1, 4}));                                  // [B, kvH, rep, S, D]
        k = g.op("Transpose", sa + "/k/Transpose", List.of(g.op("Reshape", sa + "/k/Reshape", k, kvShape)),
                Map.of("perm", new long[] {0, 2, 1, 3}));                                     // [B, kvH, S, D]
        vv = g.op("Transpose", sa + "/v/Transpose", List.of(g.op("Reshape", sa + "/v/Reshape", vv, kvShape)),
                Map.of("perm", new long[] {0, 2, 1, 3}));                                     // [B, kvH, S, D]
        q = rope(sa + "/q/rotary", q, cosQ, sinQ);
        k = rope(sa + "/k/rotary", k, cosK, sinK);
        String presentK = g.op("Concat", sa + "/present_key", List.of(pastK[li], k), Map.of("axis", 2L));  // [B, kvH, T, D]
        String presentV = g.op("Concat", sa + "/present_value", List.of(pastV[li], vv), Map.of("axis", 2L));
        g.outputAs(presentK, "present." + li + ".key", t, "batch", (long) kvH, "total_sequence", (long) d);
        g.outputAs(presentV, "present." + li + ".value", t, "batch", (long) kvH, "total_sequence", (long) d);
        String kT = g.op("Unsqueeze", sa + "/kT/Unsqueeze",
                g.op("Transpose", sa + "/kT/Transpose", List.of(presentK), Map.of("perm", new long[] {0, 1, 3, 2})), ax2); // [B,kvH,1,D,T]
        String scores = g.mul(sa + "/Scale", g.op("MatMul", sa + "/QK/MatMul", q, kT), scale);    // [B, kvH, rep, S, T]
        scores = g.op("Where", sa + "/Mask/Where", allowed, scores, negBig);
        String probs = g.op("Softmax", sa + "/Softmax", List.of(scores), Map.of("axis", -1L));
        String v5 = g.op("Unsqueeze", sa + "/v5/Unsqueeze", presentV, ax2);                      // [B, kvH, 1, T, D]
        String ctx = g.op("MatMul", sa + "/PV/MatMul", probs, v5);                               // [B, kvH, rep, S, D]
        ctx = g.op("Transpose", sa + "/ctx/Transpose", List.of(ctx), Map.of("perm", new long[] {0, 3, 1, 2, 4})); // [B,S,kvH,rep,D]
        ctx = g.op("Reshape", sa + "/ctx/Reshape", ctx, mergeShape);                              // [B, S, nH*D]
        return linear(sa + "/o_proj", ctx, l + "self_attn.o_proj", h, nH * d);
    }

    /** SwiGLU MLP of layer {@code li}: down(silu(gate(x)) * up(x)), [B, S, H] -> [B, S, H]. */
    private String makeMlp(int li, String xm) {
        String l = P + "layers." + li + ".", mp = LM + "/layers." + li + "/mlp";
        String gate = linear(mp + "/gate_proj", xm, l + "mlp.gate_proj", ffn, h);  // [B, S, F]
        String up = linear(mp + "/up_proj", xm, l + "mlp.up_proj", ffn, h);
        String silu = g.mul(mp + "/act_fn/Mul", gate, g.op("Sigmoid", mp + "/act_fn/Sigmoid", gate));
        return linear(mp + "/down_proj", g.mul(mp + "/Mul", silu, up), l + "mlp.down_proj", h, ffn); // [B, S, H]
    }

    /** Final-normed hidden states [B, S, H] -> hidden_states.L and logits of the last position [B, 1, V]. */
    private void makeHead(String normed) {
        g.outputAs(toF32(normed, LM + "/norm/output"), "hidden_states." + layers, F32, "batch", "sequence", (long) h);
        String last = g.op("Slice", LM + "/last_position/Slice", normed,
                g.ints(LM + "/last_start", -1), g.ints(LM + "/last_end", Long.MAX_VALUE), ax1); // [B, 1, H]
        String headName = w.has("language_model.lm_head.weight") || !cfg.tieWordEmbeddings()
                ? "language_model.lm_head.weight" : P + "embed_tokens.weight";
        w.requireShape(headName, v, h);
        String logits;
        if (dtype.quantized()) {
            logits = quantizedHead(last, headName);                                           // [B, 1, V]
        } else {
            // lm_head stays [V, H] as stored and streams into the data file (2.5 GB in fp32 for the real model, no
            // transposed copy): Gemm with transB over the last position, reshaped back to [B, 1, V]
            String head = ops == GraphOps.STANDARD
                    ? TextOps.asF32(g, g.weightStreamed("language_model.lm_head.weight", w, headName, v, h))
                    : g.weightStreamedAs("language_model.lm_head.weight", t, w, headName, v, h); // [V, H]
            String last2d = g.op("Reshape", "/lm_head/Reshape", last, g.ints("/lm_head/shape_2d", -1, h));     // [B, H]
            String gemm = g.op("Gemm", "/lm_head/Gemm", List.of(last2d, head), Map.of("transB", 1L));           // [B, V]
            logits = g.op("Reshape", "/lm_head/Reshape_1", gemm, g.ints("/lm_head/shape_3d", -1, 1, v)); // [B, 1, V]
        }
        g.outputAs(toF32(logits, "/lm_head/output"), "logits", F32, "batch", 1L, (long) v);
    }

    /** lm_head as 8-bit MatMulNBits, quantised row by row as the table streams (never whole on the heap). */
    private String quantizedHead(String last, String headName) {
        BlockQuant q8 = new BlockQuant(8, QUANT_BLOCK);
        int nb = q8.blocksPerRow(h), rowBytes = q8.rowBytes(h);
        float[] scales = new float[v * nb];                 // [V * blocks]: 4 bytes per 32 weights
        float[] row = new float[h];
        String b = g.weightBytesStreamed("language_model.lm_head.weight_q8", U8, (long) v * rowBytes,
                new long[] {v, nb, q8.blobSize()}, sink -> {
                    int[] filled = {0}, r = {0};
                    w.streamFloats(headName, 1 << 20, (vals, off, n) -> {
                        for (int i = 0; i < n; ) {
                            int take = Math.min(n - i, h - filled[0]);
                            System.arraycopy(vals, i, row, filled[0], take);
                            filled[0] += take;
                            i += take;
                            if (filled[0] == h) {
                                byte[] out = new byte[rowBytes];
                                q8.quantizeRow(row, 0, h, out, 0, scales, r[0] * nb);
                                sink.accept(out);
                                filled[0] = 0;
                                r[0]++;
                            }
                        }
                    });
                });
        String sc = g.weightF32("language_model.lm_head.scales_q8", scales, (long) v * nb);
        return g.ms("MatMulNBits", "/lm_head/MatMulNBits", List.of(last, b, sc), Map.of("K", (long) h, "N", (long) v,
                "bits", 8L, "block_size", (long) QUANT_BLOCK, "accuracy_level", 0L), 1)[0];
    }

    // ---- fused blocks ----

    /**
     * GroupQueryAttention's side inputs, computed once from the attention mask: seqlens_k [B] int32 = T - 1,
     * total_sequence_length int32 scalar = T, the padding bias [B, 1, S, T] (0 or the dtype's lowest value) and the
     * rotary caches cos/sin [max_position_embeddings, D/2].
     */
    private void makeFusedAttentionInputs() {
        if (!fusedAttentionFits(d)) return;
        String m = LM + "/gqa_inputs";
        String one = g.ints(m + "/one", 1);                                                           // [1]
        String shapeMask = g.op("Shape", m + "/ShapeMask", mask);                                     // [2] = (B, T)
        String tLen = g.op("Gather", m + "/T", List.of(shapeMask, one), Map.of("axis", 0L));          // [1]
        String bLen = g.op("Gather", m + "/B", List.of(shapeMask, g.ints(m + "/zero", 0)), Map.of("axis", 0L)); // [1]
        totalLen = g.op("Cast", m + "/total_sequence_length", List.of(g.op("Squeeze", m + "/TScalar", tLen, g.ints(m + "/axes0", 0))),
                Map.of("to", (long) I32));                                                             // scalar int32
        String tMinus1 = g.op("Sub", m + "/TMinus1", tLen, one);                                       // [1]
        seqlensK = g.op("Cast", m + "/seqlens_k", List.of(g.op("Expand", m + "/SeqlensB", tMinus1, bLen)),
                Map.of("to", (long) I32));                                                             // [B] int32
        // padding bias: 0 where mask == 1, lowest where 0, [B, 1, 1, T] expanded to [B, 1, S, T]
        String keep = g.op("Cast", m + "/MaskBool", List.of(mask), Map.of("to", (long) TensorProto.DataType.BOOL_VALUE));
        String zeroT = g.op("Cast", m + "/ZeroT", List.of(g.scalar(m + "/zero_f", 0f)), Map.of("to", (long) t));
        String lowT = g.op("Cast", m + "/LowT", List.of(g.scalar(m + "/low_f", t == F32 ? MASK_VALUE : MASK_VALUE_FP16)),
                Map.of("to", (long) t));
        String bias = g.op("Unsqueeze", m + "/Bias4d", g.op("Where", m + "/BiasWhere", keep, zeroT, lowT),
                g.ints(m + "/axes_1_2", 1, 2));                                                         // [B, 1, 1, T]
        String sLen = g.op("Gather", m + "/S", List.of(g.op("Shape", m + "/ShapeX", x), one), Map.of("axis", 0L)); // [1]
        String biasShape = g.op("Concat", m + "/BiasShape", List.of(bLen, one, sLen, tLen), Map.of("axis", 0L));
        attnBias = g.op("Expand", m + "/attention_bias", bias, biasShape);                            // [B, 1, S, T]
        // rotary caches [maxPos, D/2]
        int maxPos = cfg.maxPositionEmbeddings();
        float[] inv = invFreq(), cos = new float[maxPos * (d / 2)], sin = new float[maxPos * (d / 2)];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < d / 2; i++) {
                float f = p * inv[i]; // float32 product as transformers computes it
                cos[p * (d / 2) + i] = (float) Math.cos(f);
                sin[p * (d / 2) + i] = (float) Math.sin(f);
            }
        }
        cosCache = g.weightAs(LM + "/rotary_emb/cos_cache", t, cos, maxPos, d / 2);
        sinCache = g.weightAs(LM + "/rotary_emb/sin_cache", t, sin, maxPos, d / 2);
    }

    /** All layers in fused ops; returns the final-normed hidden states [B, S, H] (compute dtype). */
    private String makeFusedLayers() {
        String hs = t == F32 ? x : g.op("Cast", LM + "/inputs_embeds/Cast", List.of(x), Map.of("to", (long) t));
        String pending = null; // the last block's output, not yet added to the residual stream
        for (int li = 0; li < layers; li++) {
            String l = P + "layers." + li + ".", path = LM + "/layers." + li;
            String a;
            if (pending == null) {
                a = g.op("SimplifiedLayerNormalization", path + "/input_layernorm/SimplifiedLayerNorm", List.of(hs,
                        normWeight(l + "input_layernorm.weight")), Map.of("axis", -1L, "epsilon", (float) cfg.rmsNormEps(),
                        "stash_type", 1L));
            } else {
                String[] n = skipNorm(path + "/input_layernorm", pending, hs, l + "input_layernorm.weight");
                a = n[0];
                hs = n[3];
                g.outputAs(toF32(hs, path + "/residual_in"), "hidden_states." + li, F32, "batch", "sequence", (long) h);
            }
            String o = fusedAttentionFits(d) ? makeFusedAttention(li, a) : makeStandardAttentionIn(li, a);
            String[] n = skipNorm(path + "/post_attention_layernorm", o, hs, l + "post_attention_layernorm.weight");
            hs = n[3];
            pending = makeMlp(li, n[0]);
        }
        return skipNorm(LM + "/norm", pending, hs, P + "norm.weight")[0];
    }

    /** {@code [normed, -, -, x + skip] = SkipSimplifiedLayerNormalization(x, skip, gamma)}. */
    private String[] skipNorm(String path, String x, String skip, String gammaName) {
        return g.opSome("SkipSimplifiedLayerNormalization", GraphBuilder.MS_DOMAIN, path + "/SkipSimplifiedLayerNorm",
                List.of(x, skip, normWeight(gammaName)), Map.of("epsilon", (float) cfg.rmsNormEps()), 0, 3);
    }

    /**
     * Layer {@code li}'s attention as one packed q/k/v projection [B, S, (nH + 2 kvH) D] into GroupQueryAttention
     * (rotary inside, KV cache in/out as [B, kvH, T, D]); returns o_proj's output [B, S, H].
     */
    private String makeFusedAttention(int li, String a) {
        String l = P + "layers." + li + ".", sa = LM + "/layers." + li + "/self_attn";
        int qkvOut = (nH + 2 * kvH) * d;
        String qkv = packedQkv(sa + "/qkv_proj", a, l + "self_attn.", qkvOut);                    // [B, S, (nH+2kvH)*D]
        String[] r = g.ms("GroupQueryAttention", sa + "/GroupQueryAttention", List.of(qkv, "", "", pastK[li], pastV[li],
                seqlensK, totalLen, cosCache, sinCache, posIds, attnBias), Map.of("num_heads", (long) nH,
                "kv_num_heads", (long) kvH, "do_rotary", 1L, "rotary_interleaved", 0L, "scale", (float) Math.pow(d, -0.5)), 3);
        g.outputAs(r[1], "present." + li + ".key", t, "batch", (long) kvH, "total_sequence", (long) d);
        g.outputAs(r[2], "present." + li + ".value", t, "batch", (long) kvH, "total_sequence", (long) d);
        return linear(sa + "/o_proj", r[0], l + "self_attn.o_proj", h, nH * d);                   // [B, S, H]
    }

    /** Standard attention inside a fused graph (head size the fused kernel cannot run); records the fallback. */
    private String makeStandardAttentionIn(int li, String a) {
        if (t != F32) {
            throw new IllegalArgumentException("head_dim " + d + " is not a multiple of 16, which GroupQueryAttention "
                    + "needs on the CPU; convert with --dtype fp32 (standard attention in a fused graph) or --graph-ops standard");
        }
        return makeStandardAttention(li, a);
    }

    // ---- weights ----

    private String normWeight(String name) {
        float[] gamma = w.floats(name, h);
        return t == F32 ? g.weightF32(name, gamma, h) : g.weightAs(name, t, gamma, h);
    }

    /** x W^T + b, the weight pre-transposed to [in, out] (or MatMulNBits); the bias in the compute dtype. */
    private String linearBias(String path, String x, String prefix, int out, int in) {
        float[] bias = w.floats(prefix + ".bias", out);
        String b = t == F32 ? g.weightF32(prefix + ".bias", bias, out) : g.weightAs(prefix + ".bias", t, bias, out);
        return g.add(path + "/Add", linear(path, x, prefix, out, in), b);
    }

    /** x W^T for a Linear {@code prefix.weight} [out, in]. */
    private String linear(String path, String x, String prefix, int out, int in) {
        float[] wt = w.floats(prefix + ".weight", out, in);
        if (dtype.quantized() && ops == GraphOps.FUSED) return matMulNBits(path, x, prefix + ".weight", wt, out, in);
        if (ops == GraphOps.STANDARD) return g.matmul(path, x, TextOps.linearWeight(g, prefix + ".weight_t", wt, out, in));
        return g.matmul(path, x, g.weightAs(prefix + ".weight_t", t, transpose(wt, out, in), in, out));
    }

    /** q, k and v projections as one [H, (nH + 2 kvH) D] weight and bias (filled one source tensor at a time). */
    private String packedQkv(String path, String x, String prefix, int qkvOut) {
        int[] outs = {nH * d, kvH * d, kvH * d};
        String[] names = {"q_proj", "k_proj", "v_proj"};
        float[] bias = new float[qkvOut];
        String mm;
        if (dtype.quantized()) {
            float[] rows = new float[qkvOut * h];                                                  // [out, in]
            int at = 0;
            for (int i = 0; i < 3; i++) {
                System.arraycopy(w.floats(prefix + names[i] + ".weight", outs[i], h), 0, rows, at * h, outs[i] * h);
                at += outs[i];
            }
            mm = matMulNBits(path, x, prefix + "qkv_proj.weight", rows, qkvOut, h);
        } else {
            float[] packed = new float[h * qkvOut];                                                // [in, out]
            int at = 0;
            for (int i = 0; i < 3; i++) {
                float[] src = w.floats(prefix + names[i] + ".weight", outs[i], h);
                for (int o = 0; o < outs[i]; o++) for (int k = 0; k < h; k++) packed[k * qkvOut + at + o] = src[o * h + k];
                at += outs[i];
            }
            mm = g.matmul(path, x, g.weightAs(prefix + "qkv_proj.weight_t", t, packed, h, qkvOut));
        }
        int at = 0;
        for (int i = 0; i < 3; i++) {
            System.arraycopy(w.floats(prefix + names[i] + ".bias", outs[i]), 0, bias, at, outs[i]);
            at += outs[i];
        }
        return g.add(path + "/Add", mm, t == F32 ? g.weightF32(prefix + "qkv_proj.bias", bias, qkvOut)
                : g.weightAs(prefix + "qkv_proj.bias", t, bias, qkvOut));
    }

    /** y = x W^T with W [out, in] block-quantised ({@link BlockQuant}, 4 or 8 bits after the dtype). */
    private String matMulNBits(String path, String x, String name, float[] wOutIn, int out, int in) {
        BlockQuant q = new BlockQuant(dtype == Dtype.INT4 ? 4 : 8, QUANT_BLOCK);
        BlockQuant.Packed p = q.quantize(wOutIn, out, in);
        String b = g.weightBytes(name + "_q" + q.bits(), U8, p.bytes(), out, q.blocksPerRow(in), q.blobSize());
        String sc = g.weightF32(name + "_scales", p.scales(), (long) out * q.blocksPerRow(in));
        return g.ms("MatMulNBits", path + "/MatMulNBits", List.of(x, b, sc), Map.of("K", (long) in, "N", (long) out,
                "bits", (long) q.bits(), "block_size", (long) QUANT_BLOCK, "accuracy_level", (long) ACCURACY_LEVEL), 1)[0];
    }

    /**
     * MatMulNBits accuracy_level: 4 lets ONNX Runtime's CPU kernel quantise activations to int8 per block and use
     * integer dot products (its fast path, as onnxruntime-genai uses on CPU); 0 dequantises to float32.
     */
    static int ACCURACY_LEVEL = Integer.getInteger("qwenaudio.matmulnbits.accuracyLevel", 4);

    private static float[] transpose(float[] wOutIn, int out, int in) {
        float[] t = new float[wOutIn.length]; // [in, out]
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) t[i * out + o] = wOutIn[o * in + i];
        return t;
    }

    private String toF32(String value, String path) {
        return t == F32 ? value : g.op("Cast", path + "/Cast", List.of(value), Map.of("to", (long) F32));
    }

    /** x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x[D/2:], x[:D/2]) on the last axis. */
    private String rope(String path, String x, String cos, String sin) {
        String x1 = g.op("Slice", path + "/Slice_1", x, half0, halfMid, axLast);
        String x2 = g.op("Slice", path + "/Slice_2", x, halfMid, halfEnd, axLast);
        String rot = g.op("Concat", path + "/Concat", List.of(g.op("Neg", path + "/Neg", x2), x1), Map.of("axis", -1L));
        return g.add(path + "/Add", g.mul(path + "/MulCos", x, cos), g.mul(path + "/MulSin", rot, sin));
    }
}
