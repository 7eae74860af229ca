package io.qwenaudio.converter;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The precision of the converted graphs.
 * <ul>
 * <li>{@link #FP32}: float32 weights and compute.</li>
 * <li>{@link #FP16}: with fused ops, float16 weights, activations and KV cache (graph inputs and outputs other than
 * the KV cache stay float32, with one Cast at each edge; ONNX Runtime's norm and attention kernels accumulate in
 * float32). With standard ops, float16 storage only: the weights are Cast to float32 in the graph (ONNX Runtime
 * folds those Casts at load, so compute and memory stay float32).</li>
 * <li>{@link #INT8} / {@link #INT4}: the decoder's linear layers as {@code MatMulNBits} (symmetric round-to-nearest,
 * block 32; lm_head 8-bit in both); everything else float32. Needs fused ops.</li>
 * <li>{@link #BF16}: float16's graph in bfloat16, for CUDA only (ONNX Runtime has no bfloat16 CPU kernels);
 * untested here, refused on CPU sessions.</li>
 * </ul>
 */
public enum Dtype {
    FP32, FP16, INT8, INT4, BF16;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Storage type of float weights that are not quantised. */
    public GraphBuilder.WeightType weightType() {
        return this == FP16 ? GraphBuilder.WeightType.FLOAT16 : GraphBuilder.WeightType.FLOAT32;
    }

    public boolean quantized() {
        return this == INT8 || this == INT4;
    }

    public static String accepted() {
        return Arrays.stream(values()).map(Dtype::label).collect(Collectors.joining(", "));
    }

    /** Parses {@code fp32}, {@code fp16}, {@code int8}, {@code int4}, {@code bf16}; the error names the accepted values. */
    public static Dtype parse(String s) {
        for (Dtype d : values()) if (d.label().equals(s)) return d;
        throw new IllegalArgumentException("--dtype '" + s + "' is not accepted; use one of: " + accepted());
    }

    public static Dtype of(GraphBuilder.WeightType wt) {
        return wt == GraphBuilder.WeightType.FLOAT16 ? FP16 : FP32;
    }
}
