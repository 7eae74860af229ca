package io.qwenaudio.bench;

/**
 * What the same graphs should do on one H200 for the real model, on paper: decode is bound by memory bandwidth
 * (every weight and the whole KV cache are read once per token), prefill by tensor-core throughput. The figures
 * are the ideal bounds the README quotes beside each CPU measurement; kernel launch gaps and less than peak
 * throughput come on top.
 *
 * <p>Qwen2-7B text decoder of Qwen2-Audio: hidden 4096, 32 layers, 32 query and 32 KV heads of 128, intermediate
 * 11008, vocabulary 156,032.
 */
final class GpuPaper {

    /** H200 HBM3e bandwidth, bytes/s. */
    static final double H200_BYTES_PER_S = 4.8e12;
    /** H200 dense tensor-core throughput, FLOP/s: BF16/FP16 989 T, TF32 494 T (fp32 graphs run TF32 at best). */
    static final double H200_FP16_FLOPS = 989e12, H200_TF32_FLOPS = 494e12;

    static final long H = 4096, LAYERS = 32, KV_HEADS = 32, HEAD = 128, FFN = 11008, VOCAB = 156_032;
    /** Linear weights of the layers (q, k, v, o, gate, up, down). */
    static final long LAYER_PARAMS = LAYERS * (4 * H * H + 3 * H * FFN);
    static final long HEAD_PARAMS = VOCAB * H;

    private GpuPaper() {
    }

    /** Bytes of weights read per decode token: the layers and lm_head in the dtype's storage (MatMulNBits: block 32, fp32 scales). */
    static double weightBytes(String dtype) {
        return switch (dtype) {
            case "fp32" -> 4.0 * (LAYER_PARAMS + HEAD_PARAMS);
            case "fp16", "bf16" -> 2.0 * (LAYER_PARAMS + HEAD_PARAMS);
            case "int8" -> (1 + 4 / 32.0) * (LAYER_PARAMS + HEAD_PARAMS);
            case "int4" -> (0.5 + 4 / 32.0) * LAYER_PARAMS + (1 + 4 / 32.0) * HEAD_PARAMS; // lm_head stays 8-bit
            default -> throw new IllegalArgumentException(dtype);
        };
    }

    /** KV cache bytes per position: K and V x layers x kv heads x head size x element size (fp32 outside fp16/bf16). */
    static double kvBytesPerPosition(String dtype) {
        return 2.0 * LAYERS * KV_HEADS * HEAD * (dtype.equals("fp16") || dtype.equals("bf16") ? 2 : 4);
    }

    /** Ideal decode time per token at a mean context of {@code positions}: (weights + KV cache) / bandwidth. */
    static double decodeMs(String dtype, double positions) {
        return (weightBytes(dtype) + positions * kvBytesPerPosition(dtype)) / H200_BYTES_PER_S * 1e3;
    }

    /** Ideal prefill time of {@code s} positions: 2 FLOP per weight and position plus attention (4 s^2 H per layer, causal halves it). */
    static double prefillMs(String dtype, int s) {
        double flops = 2.0 * (LAYER_PARAMS + HEAD_PARAMS / (double) s) * s + LAYERS * 2.0 * s * (double) s * H;
        // MatMulNBits dequantises to fp16 tiles for large M on CUDA: prefill of int8/int4 runs at half-precision rate
        double rate = dtype.equals("fp32") ? H200_TF32_FLOPS : H200_FP16_FLOPS;
        return flops / rate * 1e3;
    }

    /** One line of the arithmetic for the table. */
    static String decodeFormula(String dtype, double positions) {
        return Bench.fmt("(%.2f GB weights + %.2f GB KV) / 4.8 TB/s = %.2f ms -> %.0f tok/s", weightBytes(dtype) / 1e9,
                positions * kvBytesPerPosition(dtype) / 1e9, decodeMs(dtype, positions), 1e3 / decodeMs(dtype, positions));
    }

    static String prefillFormula(String dtype, int s) {
        return Bench.fmt("%.1f TFLOP / %s = %.0f ms", prefillMs(dtype, s) * (dtype.equals("fp32") ? H200_TF32_FLOPS : H200_FP16_FLOPS) / 1e15,
                dtype.equals("fp32") ? "494 TFLOP/s (TF32)" : "989 TFLOP/s (fp16)", prefillMs(dtype, s));
    }

    /**
     * Multiply-adds x 2 of one 30 s window of the real audio encoder (d 1280, 32 layers, ffn 5120, 1500 positions):
     * conv1 over 3000 frames, conv2 over 1500, then per layer q/k/v/out (4 d^2), fc1 + fc2 (2 d f) and attention
     * scores + weighted sum (2 T d) per position.
     */
    static double encoderFlops() {
        double d = 1280, f = 5120, t = 1500, mels = 128;
        double conv = d * mels * 3 * 2 * t + d * d * 3 * t;
        return 2 * (conv + 32 * t * (4 * d * d + 2 * d * f + 2 * t * d));
    }

    /**
     * The attention score traffic the standard graph adds per window: 20 heads x 1500 x 1500 fp32 scores per layer,
     * written by the QK MatMul and read and written by the mask Add and the Softmax and read by the PV MatMul
     * (about 5 passes); MultiHeadAttention's flash kernel keeps them on chip.
     */
    static double encoderScoreBytes() {
        return 32 * 20 * 1500.0 * 1500 * 4 * 5;
    }
}
