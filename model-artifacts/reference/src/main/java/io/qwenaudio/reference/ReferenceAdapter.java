package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Naive forward of a transformer domain adapter (weights named like {@code DomainAdapterWeights}):
 * {@code h = x (+ sinusoidal PE)}, L PyTorch {@code nn.TransformerEncoderLayer}s (pre- or post-LN),
 * {@code delta = output_norm(output_proj(h))}, {@code gate = sigmoid(gate(x))} on the adapter input,
 * {@code out = x + scale * gate * delta}.
 */
public final class ReferenceAdapter {

    /**
     * Adapter output [n, d], gate [n, 1] (scalar gate or no gate: all ones) or [n, d] (channel gate), and the
     * ungated correction {@code delta = output_norm(output_proj(h))} [n, d].
     */
    public record Result(float[] out, float[] gate, float[] delta) {
    }

    private final DomainAdapterConfig cfg;
    private final TensorSource w;

    public ReferenceAdapter(DomainAdapterConfig cfg, TensorSource w) {
        this.cfg = cfg;
        this.w = LoadedWeights.of(w, "");
    }

    /** x [n, d] valid audio tokens. */
    public Result forward(float[] x, int n) {
        return forward(x, n, null);
    }

    /**
     * The softmax attention probabilities of every layer for x [n, d]: element l is layer l's [H, n, n]
     * (query rows, key columns; each row sums to 1).
     */
    public List<float[]> attentionWeights(float[] x, int n) {
        List<float[]> out = new ArrayList<>();
        forward(x, n, out);
        return out;
    }

    private Result forward(float[] x, int n, List<float[]> attention) {
        int d = cfg.inputDim();
        if (x.length != n * d) throw new IllegalArgumentException("expected " + n + " x " + d + " values, found " + x.length);
        float[] h = x.clone();                                                          // [n, d]
        if (cfg.positionalEncoding().equals("sinusoidal")) AudioMath.addInPlace(h, sinusoidalPe(n, d));

        for (int l = 0; l < cfg.numLayers(); l++) h = layer(h, n, l, attention);

        float[] delta = AudioMath.layerNorm(
                AudioMath.linear(h, n, w.floats("output_proj.weight", d, d), w.floats("output_proj.bias", d), d, d), n, d,
                w.floats("output_norm.weight", d), w.floats("output_norm.bias", d), cfg.layerNormEps()); // [n, d]

        boolean channel = cfg.useGate() && cfg.gateType().equals("channel");
        int gw = channel ? d : 1;
        float[] gate = new float[n * gw];                                               // [n, 1] or [n, d]
        if (cfg.useGate()) {
            float[] logits = AudioMath.linear(x, n, w.floats("gate.weight", gw, d), w.floats("gate.bias", gw), d, gw);
            for (int i = 0; i < gate.length; i++) gate[i] = (float) AudioMath.sigmoid(logits[i]);
        } else {
            Arrays.fill(gate, 1f);
        }
        float scale = w.floats("scale", 1)[0];
        float[] out = new float[n * d];                                                 // [n, d]
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                float g = gate[i * gw + (channel ? c : 0)];
                out[i * d + c] = x[i * d + c] + scale * g * delta[i * d + c];
            }
        }
        return new Result(out, gate, delta);
    }

    private float[] layer(float[] h, int n, int l, List<float[]> attention) {
        int d = cfg.inputDim(), f = cfg.ffDim();
        String p = "layers." + l + ".";
        double eps = cfg.layerNormEps();
        float[] n1w = w.floats(p + "norm1.weight", d), n1b = w.floats(p + "norm1.bias", d);
        float[] n2w = w.floats(p + "norm2.weight", d), n2b = w.floats(p + "norm2.bias", d);
        if (cfg.normFirst()) {
            AudioMath.addInPlace(h, selfAttention(AudioMath.layerNorm(h, n, d, n1w, n1b, eps), n, p, attention));
            AudioMath.addInPlace(h, feedForward(AudioMath.layerNorm(h, n, d, n2w, n2b, eps), n, p));
            return h;
        }
        AudioMath.addInPlace(h, selfAttention(h, n, p, attention));
        h = AudioMath.layerNorm(h, n, d, n1w, n1b, eps);
        AudioMath.addInPlace(h, feedForward(h, n, p));
        return AudioMath.layerNorm(h, n, d, n2w, n2b, eps);
    }

    private float[] selfAttention(float[] x, int n, String p, List<float[]> attention) {
        int d = cfg.inputDim(), hd = cfg.headDim();
        float[] inW = w.floats(p + "self_attn.in_proj_weight", 3L * d, d);             // [3d, d] rows q, k, v
        float[] inB = w.floats(p + "self_attn.in_proj_bias", 3L * d);                  // [3d]
        float[] qkv = AudioMath.linear(x, n, inW, inB, d, 3 * d);                       // [n, 3d]
        float[] q = new float[n * d], k = new float[n * d], v = new float[n * d];       // [n, d] each
        float scale = (float) Math.pow(hd, -0.5);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                q[i * d + c] = qkv[i * 3 * d + c] * scale;
                k[i * d + c] = qkv[i * 3 * d + d + c];
                v[i * d + c] = qkv[i * 3 * d + 2 * d + c];
            }
        }
        if (attention != null) attention.add(probabilities(q, k, n, cfg.numHeads(), hd));
        float[] ctx = AudioMath.attention(q, k, v, n, cfg.numHeads(), hd, n);           // [n, d]
        return AudioMath.linear(ctx, n, w.floats(p + "self_attn.out_proj.weight", d, d),
                w.floats(p + "self_attn.out_proj.bias", d), d, d);                      // [n, d]
    }

    /** softmax(q_h k_h^T) per head from scaled q [n, d] and k [n, d]: [H, n, n], in double precision. */
    private static float[] probabilities(float[] q, float[] k, int n, int heads, int hd) {
        int d = heads * hd;
        float[] out = new float[heads * n * n];
        double[] s = new double[n];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int c = 0; c < hd; c++) dot += (double) q[i * d + h * hd + c] * k[j * d + h * hd + c];
                    s[j] = dot;
                    max = Math.max(max, dot);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j < n; j++) out[(h * n + i) * n + j] = (float) (s[j] / sum);
            }
        }
        return out;
    }

    private float[] feedForward(float[] x, int n, String p) {
        int d = cfg.inputDim(), f = cfg.ffDim();
        float[] a = AudioMath.linear(x, n, w.floats(p + "linear1.weight", f, d), w.floats(p + "linear1.bias", f), d, f);
        if (cfg.activation().equals("relu")) AudioMath.reluInPlace(a); else AudioMath.geluInPlace(a); // [n, f]
        return AudioMath.linear(a, n, w.floats(p + "linear2.weight", d, f), w.floats(p + "linear2.bias", d), f, d);
    }

    /**
     * Interleaved sinusoidal encoding [n, d]: pe[t, 2i] = sin(t w_i), pe[t, 2i+1] = cos(t w_i),
     * w_i = 10000^(-2i/d); the angle t * w_i is rounded to float32 as PyTorch computes it.
     */
    static float[] sinusoidalPe(int n, int d) {
        float[] pe = new float[n * d];                                                  // [n, d]
        for (int t = 0; t < n; t++) {
            for (int i = 0; 2 * i < d; i++) {
                float angle = (float) t * frequency(i, d);
                pe[t * d + 2 * i] = (float) Math.sin(angle);
                if (2 * i + 1 < d) pe[t * d + 2 * i + 1] = (float) Math.cos(angle);
            }
        }
        return pe;
    }

    /** w_i = 10000^(-2i/d) as float32. */
    static float frequency(int i, int d) {
        return (float) Math.exp(-Math.log(10000.0) * (2.0 * i) / d);
    }
}
