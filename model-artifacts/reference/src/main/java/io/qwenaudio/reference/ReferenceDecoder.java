package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Naive float32 forward of the Qwen2 text decoder (transformers {@code Qwen2ForCausalLM}), the behavioural
 * reference for the exported decoder graph. Holds every weight on the heap: meant for tiny test models.
 *
 * <p>Per layer: {@code h += o_proj(attn(input_layernorm(h)))}, then
 * {@code h += down(silu(gate(x)) * up(x))} with {@code x = post_attention_layernorm(h)}; a final norm and an
 * untied {@code lm_head}. Hidden states follow transformers' {@code output_hidden_states}: L + 1 tensors, the
 * embeddings first, the raw output of layers 0..L-2, and the final-<em>normed</em> output of the last layer.
 */
public final class ReferenceDecoder {

    private static final String P = "language_model.model.";

    private final TextConfig cfg;
    private final int h, nH, kvH, d, ffn, v, layers;
    private final float[] embed;   // [V, H]
    private final float[] lmHead;  // [V, H]
    private final float[] finalNorm;
    private final Layer[] layer;
    private final float[] invFreq; // [D/2]

    private record Layer(float[] inNorm, float[] q, float[] qb, float[] k, float[] kb, float[] v, float[] vb,
                         float[] o, float[] postNorm, float[] gate, float[] up, float[] down) {
    }

    public ReferenceDecoder(TextConfig cfg, TensorSource w) {
        this.cfg = cfg;
        h = cfg.hiddenSize();
        nH = cfg.numAttentionHeads();
        kvH = cfg.numKeyValueHeads();
        d = cfg.headDim();
        ffn = cfg.intermediateSize();
        v = cfg.vocabSize();
        layers = cfg.numHiddenLayers();
        if (!"silu".equals(cfg.hiddenAct())) {
            throw new IllegalArgumentException("hidden_act '" + cfg.hiddenAct() + "' is not supported, expected 'silu'");
        }
        embed = w.floats(P + "embed_tokens.weight", v, h);
        String head = "language_model.lm_head.weight";
        lmHead = w.has(head) || !cfg.tieWordEmbeddings() ? w.floats(head, v, h) : embed;
        finalNorm = w.floats(P + "norm.weight", h);
        layer = new Layer[layers];
        for (int i = 0; i < layers; i++) {
            String l = P + "layers." + i + ".";
            String a = l + "self_attn.";
            layer[i] = new Layer(
                    w.floats(l + "input_layernorm.weight", h),
                    w.floats(a + "q_proj.weight", nH * d, h), w.floats(a + "q_proj.bias", nH * d),
                    w.floats(a + "k_proj.weight", kvH * d, h), w.floats(a + "k_proj.bias", kvH * d),
                    w.floats(a + "v_proj.weight", kvH * d, h), w.floats(a + "v_proj.bias", kvH * d),
                    w.floats(a + "o_proj.weight", h, nH * d),
                    w.floats(l + "post_attention_layernorm.weight", h),
                    w.floats(l + "mlp.gate_proj.weight", ffn, h),
                    w.floats(l + "mlp.up_proj.weight", ffn, h),
                    w.floats(l + "mlp.down_proj.weight", h, ffn));
        }
        invFreq = TextMath.invFreq(d, cfg.ropeTheta());
    }

    public TextConfig config() {
        return cfg;
    }

    /** Token embeddings, [S * H] row-major. */
    public float[] embed(int[] tokenIds) {
        float[] out = new float[tokenIds.length * h]; // [S, H]
        for (int s = 0; s < tokenIds.length; s++) {
            int id = tokenIds[s];
            if (id < 0 || id >= v) throw new IllegalArgumentException("token id " + id + " outside vocabulary [0, " + v + ")");
            System.arraycopy(embed, id * h, out, s * h, h);
        }
        return out;
    }

    /**
     * Logits of the last position [V], the L + 1 hidden states ([S, H] each, as transformers'
     * {@code output_hidden_states}) and the logits of every position [S, V].
     */
    public record Output(float[] lastLogits, float[][] hiddenStates, float[] allLogits) {
    }

    /** Full causal forward from position 0 over {@code s} positions of {@code inputsEmbeds} ([S * H]). */
    public Output forward(float[] inputsEmbeds, int s) {
        List<float[]> hidden = new ArrayList<>();
        float[] normed = run(inputsEmbeds, s, newCache(), hidden);                  // [S, H]
        float[] all = TextMath.linear(normed, s, h, lmHead, null, v);                // [S, V]
        float[] last = Arrays.copyOfRange(all, (s - 1) * v, s * v);       // [V]
        return new Output(last, hidden.toArray(new float[0][]), all);
    }

    /** Keys and values of every layer for the positions seen so far (RoPE already applied to the keys). */
    public static final class KvCache {
        private final List<List<float[]>> keys = new ArrayList<>();   // per layer, per position: [kvH * D]
        private final List<List<float[]>> values = new ArrayList<>();

        private KvCache(int layers) {
            for (int i = 0; i < layers; i++) {
                keys.add(new ArrayList<>());
                values.add(new ArrayList<>());
            }
        }

        /** Number of cached positions. */
        public int length() {
            return keys.get(0).size();
        }
    }

    public KvCache newCache() {
        return new KvCache(layers);
    }

    /** Appends {@code s} positions (continuing at {@code cache.length()}) and returns the last position's logits [V]. */
    public float[] step(float[] inputsEmbeds, int s, KvCache cache) {
        return logits(run(inputsEmbeds, s, cache, null), s - 1);
    }

    /** Prefill plus greedy (argmax) decoding through the cache; stops after a stop id (included) or maxNewTokens. */
    public int[] greedy(float[] promptEmbeds, int s, int maxNewTokens, int[] stopIds) {
        KvCache cache = newCache();
        float[] logits = step(promptEmbeds, s, cache);
        List<Integer> out = new ArrayList<>();
        for (int n = 0; n < maxNewTokens; n++) {
            int next = TextMath.argmax(logits);
            out.add(next);
            boolean stop = false;
            for (int id : stopIds) stop |= id == next;
            if (stop || n == maxNewTokens - 1) break;
            logits = step(embed(new int[] {next}), 1, cache);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private float[] logits(float[] normed, int row) {
        float[] last = new float[h];
        System.arraycopy(normed, row * h, last, 0, h);
        return TextMath.linear(last, 1, h, lmHead, null, v); // [V]
    }

    /** Runs all layers over s new positions; returns the final-normed hidden [S * H]. */
    private float[] run(float[] x, int s, KvCache cache, List<float[]> hidden) {
        if (x.length != s * h) {
            throw new IllegalArgumentException("inputs_embeds has " + x.length + " values, expected S*H = " + s * h);
        }
        int start = cache.length();
        float[] hs = x.clone(); // [S, H]
        if (hidden != null) hidden.add(hs.clone());
        for (int li = 0; li < layers; li++) {
            Layer w = layer[li];
            float[] a = TextMath.rmsNorm(hs, s, h, w.inNorm(), cfg.rmsNormEps());
            float[] attn = attention(a, s, start, w, cache.keys.get(li), cache.values.get(li)); // [S, nH*D]
            float[] o = TextMath.linear(attn, s, nH * d, w.o(), null, h);
            for (int i = 0; i < hs.length; i++) hs[i] += o[i];
            float[] m = TextMath.rmsNorm(hs, s, h, w.postNorm(), cfg.rmsNormEps());
            float[] gate = TextMath.linear(m, s, h, w.gate(), null, ffn); // [S, F]
            float[] up = TextMath.linear(m, s, h, w.up(), null, ffn);
            for (int i = 0; i < gate.length; i++) gate[i] = TextMath.silu(gate[i]) * up[i];
            float[] down = TextMath.linear(gate, s, ffn, w.down(), null, h);
            for (int i = 0; i < hs.length; i++) hs[i] += down[i];
            if (hidden != null && li < layers - 1) hidden.add(hs.clone());
        }
        float[] normed = TextMath.rmsNorm(hs, s, h, finalNorm, cfg.rmsNormEps());
        if (hidden != null) hidden.add(normed.clone());
        return normed;
    }

    /** Causal GQA self-attention of s new positions at absolute positions start.. over the cache plus themselves. */
    private float[] attention(float[] a, int s, int start, Layer w, List<float[]> keys, List<float[]> values) {
        float[] q = TextMath.linear(a, s, h, w.q(), w.qb(), nH * d);  // [S, nH*D]
        float[] k = TextMath.linear(a, s, h, w.k(), w.kb(), kvH * d); // [S, kvH*D]
        float[] vv = TextMath.linear(a, s, h, w.v(), w.vb(), kvH * d);
        for (int i = 0; i < s; i++) {
            long pos = start + i;
            for (int hd = 0; hd < nH; hd++) TextMath.rope(q, i * nH * d + hd * d, d, pos, invFreq);
            float[] ki = new float[kvH * d], vi = new float[kvH * d];
            System.arraycopy(k, i * kvH * d, ki, 0, kvH * d);
            System.arraycopy(vv, i * kvH * d, vi, 0, kvH * d);
            for (int hd = 0; hd < kvH; hd++) TextMath.rope(ki, hd * d, d, pos, invFreq);
            keys.add(ki);
            values.add(vi);
        }
        float scale = (float) Math.pow(d, -0.5);
        int rep = nH / kvH;
        float[] out = new float[s * nH * d];
        float[] scores = new float[start + s];
        for (int i = 0; i < s; i++) {
            int n = start + i + 1; // keys 0..start+i
            for (int hd = 0; hd < nH; hd++) {
                int kh = hd / rep;
                int qo = i * nH * d + hd * d;
                for (int j = 0; j < n; j++) {
                    float[] kj = keys.get(j);
                    float dot = 0f;
                    for (int c = 0; c < d; c++) dot += q[qo + c] * kj[kh * d + c];
                    scores[j] = dot * scale;
                }
                TextMath.softmax(scores, n);
                for (int j = 0; j < n; j++) {
                    float[] vj = values.get(j);
                    for (int c = 0; c < d; c++) out[qo + c] += scores[j] * vj[kh * d + c];
                }
            }
        }
        return out;
    }
}
