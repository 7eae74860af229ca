package io.qwenaudio.reference;

/**
 * Plain float32 kernels for the Qwen2 text decoder reference: linear layers in PyTorch weight layout, RMSNorm,
 * SiLU, rotate-half RoPE and softmax. Written for clarity, not speed (tiny models in tests).
 */
public final class TextMath {

    private TextMath() {
    }

    /** y[r, o] = sum_i x[r, i] * w[o, i] (+ b[o]) for a PyTorch Linear weight {@code w} of shape [out, in]. */
    public static float[] linear(float[] x, int rows, int in, float[] w, float[] b, int out) {
        float[] y = new float[rows * out]; // [rows, out]
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float acc = 0f;
                int xo = r * in, wo = o * in;
                for (int i = 0; i < in; i++) acc += x[xo + i] * w[wo + i];
                y[r * out + o] = b == null ? acc : acc + b[o];
            }
        }
        return y;
    }

    /** Row-wise RMSNorm over the last dim: x * rsqrt(mean(x^2) + eps) * weight, computed in float32. */
    public static float[] rmsNorm(float[] x, int rows, int dim, float[] weight, double eps) {
        float[] y = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            float ss = 0f;
            for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + (float) eps));
            for (int i = 0; i < dim; i++) y[r * dim + i] = weight[i] * (x[r * dim + i] * inv);
        }
        return y;
    }

    public static float silu(float v) {
        return (float) (v / (1.0 + Math.exp(-v)));
    }

    /** RoPE inverse frequencies 1 / theta^(2i/D) for i < D/2, computed in float32 as transformers does. */
    public static float[] invFreq(int headDim, double theta) {
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
        return f;
    }

    /**
     * Rotates one head vector in place at position {@code pos} (rotate-half convention):
     * x' = x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x2, x1), cos/sin of pos * invFreq duplicated.
     */
    public static void rope(float[] x, int off, int headDim, long pos, float[] invFreq) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float angle = (float) pos * invFreq[i];
            float c = (float) Math.cos(angle), s = (float) Math.sin(angle);
            float x1 = x[off + i], x2 = x[off + half + i];
            x[off + i] = x1 * c - x2 * s;
            x[off + half + i] = x2 * c + x1 * s;
        }
    }

    /** Softmax over v[0..n) in place (max-subtracted). */
    public static void softmax(float[] v, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, v[i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.exp(v[i] - max);
            sum += v[i];
        }
        for (int i = 0; i < n; i++) v[i] /= sum;
    }

    /** Index of the largest value (first one on ties). */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
