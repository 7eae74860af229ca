package io.qwenaudio.converter;

import java.util.Arrays;


/**
 * Round-to-nearest, symmetric block quantisation of a Linear weight {@code [N, K]} (PyTorch's {@code [out, in]}) in
 * the layout of ONNX Runtime's {@code com.microsoft.MatMulNBits}: for each output row, blocks of {@code block}
 * input values share one float scale {@code absmax / (2^(bits-1) - 1)}; a value is stored as
 * {@code round(w / scale) + 2^(bits-1)} (no zero-point tensor: MatMulNBits' default zero point is
 * {@code 2^(bits-1)}), 4-bit values two to a byte, low nibble first. The last block of a row is zero-padded.
 *
 * <p>Why symmetric round-to-nearest: it needs no calibration data (none is available at conversion), quantises
 * each tensor on its own as the converter streams, and at block size 32 its error is small enough for the
 * stated accuracy bounds (measured in {@code QuantizedDecoderTest}); GPTQ/AWQ-style methods need activations.
 */
public final class BlockQuant {

    private final int bits;
    private final int block;

    public BlockQuant(int bits, int block) {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("bits must be 4 or 8, got " + bits);
        if (block < 16 || Integer.bitCount(block) != 1) throw new IllegalArgumentException("block must be a power of 2 >= 16");
        this.bits = bits;
        this.block = block;
    }

    public int bits() {
        return bits;
    }

    public int block() {
        return block;
    }

    public int blocksPerRow(int k) {
        return (k + block - 1) / block;
    }

    /** Bytes of one block. */
    public int blobSize() {
        return block * bits / 8;
    }

    /** Bytes of the packed weight of one row. */
    public int rowBytes(int k) {
        return blocksPerRow(k) * blobSize();
    }

    /**
     * Quantises row {@code row} of {@code w} (row-major, {@code k} values per row, starting at {@code off}) into
     * {@code out} at {@code outOff} ({@link #rowBytes} bytes) and its scales into {@code scales} at {@code scOff}.
     */
    public void quantizeRow(float[] w, int off, int k, byte[] out, int outOff, float[] scales, int scOff) {
        int nb = blocksPerRow(k), qmax = (1 << (bits - 1)) - 1, zp = 1 << (bits - 1);
        Arrays.fill(out, outOff, outOff + nb * blobSize(), (byte) 0);
        for (int b = 0; b < nb; b++) {
            int from = b * block, to = Math.min(k, from + block);
            float amax = 0;
            for (int i = from; i < to; i++) amax = Math.max(amax, Math.abs(w[off + i]));
            float scale = amax / qmax;
            scales[scOff + b] = scale;
            float inv = scale == 0 ? 0 : 1 / scale;
            int base = outOff + b * blobSize();
            for (int i = 0; i < block; i++) {
                int q = zp;
                if (from + i < to) q = Math.max(0, Math.min(2 * zp - 1, Math.round(w[off + from + i] * inv) + zp));
                if (bits == 8) {
                    out[base + i] = (byte) q;
                } else if ((i & 1) == 0) {
                    out[base + i / 2] = (byte) q;
                } else {
                    out[base + i / 2] |= (byte) (q << 4);
                }
            }
        }
    }

    /** Quantised weight of a whole [N, K] matrix: packed bytes [N, blocks, blob] and scales [N * blocks]. */
    public record Packed(byte[] bytes, float[] scales) {
    }

    public Packed quantize(float[] w, int n, int k) {
        byte[] out = new byte[n * rowBytes(k)];
        float[] scales = new float[n * blocksPerRow(k)];
        for (int r = 0; r < n; r++) quantizeRow(w, r * k, k, out, r * rowBytes(k), scales, r * blocksPerRow(k));
        return new Packed(out, scales);
    }

    /** The float weight [N, K] a packed weight stands for (what MatMulNBits multiplies by): for tests and error figures. */
    public float[] dequantize(Packed p, int n, int k) {
        float[] w = new float[n * k];
        int nb = blocksPerRow(k), zp = 1 << (bits - 1);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) {
                int b = i / block, j = i % block, base = r * rowBytes(k) + b * blobSize();
                int q = bits == 8 ? p.bytes()[base + j] & 0xff : (p.bytes()[base + j / 2] >> ((j & 1) * 4)) & 0xf;
                w[r * k + i] = (q - zp) * p.scales()[r * nb + b];
            }
        }
        return w;
    }
}
