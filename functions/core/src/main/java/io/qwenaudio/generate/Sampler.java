package io.qwenaudio.generate;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Picks the next token id from the logits of the last position, as transformers' {@code generate} does: the
 * repetition penalty first (also when greedy), then greedy argmax, or for sampling temperature, top-k, top-p
 * (in that order) and a draw from what is left. One instance per request (it remembers the ids seen for the
 * penalty and owns the random numbers); not thread-safe.
 *
 * <p>Random numbers come from a {@link SplittableRandom} seeded with {@link GenerationOptions#seed()}: the same
 * seed, logits and options give the same ids on every machine. The sequence differs from torch's, so sampled ids
 * are not expected to match transformers, only their distribution.
 *
 * <p>Cost per token: O(V) for greedy and for top-k (a k-element heap), plus a sort of the V logits when top-p is
 * used without top-k.
 */
public final class Sampler {

    private final GenerationOptions o;
    private final SplittableRandom random;
    private final BitSet seen = new BitSet();

    public Sampler(GenerationOptions options) {
        this.o = options;
        this.random = options.seed() == null ? new SplittableRandom() : new SplittableRandom(options.seed());
    }

    /** Remembers ids for the repetition penalty (the prompt before the first call, then each generated id). */
    public void observe(int... ids) {
        for (int id : ids) if (id >= 0) seen.set(id);
    }

    /**
     * The next id. Overwrites {@code logits} ([V]) with the penalised values.
     *
     * @throws NonFiniteLogitsException when the model's logits hold NaN or +Infinity, or are all -Infinity
     */
    public int next(float[] logits) {
        requireFinite(logits);
        applyRepetitionPenalty(logits, seen, o.repetitionPenalty());
        if (o.isGreedy()) return argmax(logits);
        Candidates c = candidates(logits);
        double u = random.nextDouble() * c.total;
        double acc = 0;
        for (int i = 0; i < c.count; i++) {
            acc += c.prob[i];
            if (u < acc) return c.ids[i];
        }
        return c.ids[c.count - 1]; // rounding at the very end of the range
    }

    /**
     * The distribution {@link #next} draws from for these logits ([V] probabilities, zero outside the support):
     * one-hot at the argmax when greedy. Does not change {@code logits} or the sampler's state.
     */
    public double[] distribution(float[] logits) {
        requireFinite(logits);
        float[] x = logits.clone();
        applyRepetitionPenalty(x, seen, o.repetitionPenalty());
        double[] p = new double[x.length];
        if (o.isGreedy()) {
            p[argmax(x)] = 1;
            return p;
        }
        Candidates c = candidates(x);
        for (int i = 0; i < c.count; i++) p[c.ids[i]] = c.prob[i] / c.total;
        return p;
    }

    /**
     * Checks the model's logits before any processing. -Infinity is allowed (a masked id) as long as one id is
     * left; NaN and +Infinity are not: transformers' sampling fails there too ({@code torch.multinomial}: "probability
     * tensor contains either inf, nan or element < 0"), while its greedy argmax would silently pick the NaN id. Both
     * modes fail here with the position of the first bad value instead.
     */
    static void requireFinite(float[] logits) {
        boolean anyId = false;
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                throw new NonFiniteLogitsException("the model produced non-finite logits (" + v + " at vocabulary id " + i
                        + " of " + logits.length + "); the input hidden states are outside the range the model works in, "
                        + "or the weights are corrupt");
            }
            anyId |= v != Float.NEGATIVE_INFINITY;
        }
        if (!anyId) {
            throw new NonFiniteLogitsException("the model produced " + (logits.length == 0 ? "no logits"
                    : "logits that are -Infinity for all " + logits.length + " vocabulary ids") + ": no token can be chosen");
        }
    }

    /** Index of the largest value; the lowest index on ties (torch.argmax). */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /**
     * transformers' {@code RepetitionPenaltyLogitsProcessor}: for every id in {@code seen} (once, however often it
     * occurred), a positive logit is divided by {@code penalty} and a negative one multiplied by it.
     */
    public static void applyRepetitionPenalty(float[] logits, BitSet seen, double penalty) {
        if (penalty == 1.0) return;
        for (int id = seen.nextSetBit(0); id >= 0 && id < logits.length; id = seen.nextSetBit(id + 1)) {
            if (logits[id] == Float.NEGATIVE_INFINITY) continue;
            double v = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty;
            // in double and kept finite: an extreme penalty must not turn a logit into +-Infinity (then NaN)
            logits[id] = (float) Math.max(-Float.MAX_VALUE, Math.min(v, Float.MAX_VALUE));
        }
    }

    /** Ids that survive temperature + top-k + top-p, most likely first, with unnormalised probabilities. */
    private record Candidates(int[] ids, double[] prob, int count, double total) {
    }

    private Candidates candidates(float[] logits) {
        // top-k first on the unscaled logits (dividing by t > 0 keeps the order), then TemperatureLogitsWarper inside
        // the softmax in double: (l - max) / t <= 0, so a tiny temperature cannot overflow to Infinity and NaN
        double t = o.temperature();
        int[] ids = topK(logits, o.topK() == 0 ? logits.length : Math.min(o.topK(), logits.length)); // TopKLogitsWarper
        double max = logits[ids[0]], sum = 0;
        double[] prob = new double[ids.length];
        for (int i = 0; i < ids.length; i++) sum += prob[i] = Math.exp((logits[ids[i]] - max) / t); // softmax over the top k
        int keep = ids.length;
        if (o.topP() < 1.0) {                                                         // TopPLogitsWarper
            double before = 0;
            for (int i = 0; i < ids.length; i++) {
                if (i > 0 && before >= o.topP()) {   // removed when the mass ranked above it already reaches top_p
                    keep = i;
                    break;
                }
                before += prob[i] / sum;
            }
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += prob[i];
        return new Candidates(ids, prob, keep, total);
    }

    /**
     * Ids of the k largest values, largest first (lowest id first on equal values); every id equal to the k-th
     * value is kept too, as transformers' top-k keeps ties.
     */
    static int[] topK(float[] x, int k) {
        float kth;
        if (k >= x.length) {
            kth = Float.NEGATIVE_INFINITY;
        } else {
            float[] heap = new float[k];                   // min-heap of the k largest values so far
            int n = 0;
            for (float v : x) {
                if (n < k) {
                    heap[n] = v;
                    siftUp(heap, n++);
                } else if (v > heap[0]) {
                    heap[0] = v;
                    siftDown(heap, k);
                }
            }
            kth = heap[0];
        }
        int count = 0;
        for (float v : x) if (v >= kth) count++;
        long[] keys = new long[count];                     // descending value, then ascending id
        int j = 0;
        for (int i = 0; i < x.length; i++) {
            if (x[i] >= kth) keys[j++] = ((long) ~sortable(x[i]) << 32) | i;
        }
        Arrays.sort(keys);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = (int) keys[i];
        return ids;
    }

    /** An int whose signed order is the float order. */
    private static int sortable(float f) {
        int bits = Float.floatToIntBits(f);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    private static void siftUp(float[] h, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (h[parent] <= h[i]) return;
            float t = h[parent];
            h[parent] = h[i];
            h[i] = t;
            i = parent;
        }
    }

    private static void siftDown(float[] h, int n) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < n && h[l] < h[m]) m = l;
            if (r < n && h[r] < h[m]) m = r;
            if (m == i) return;
            float t = h[m];
            h[m] = h[i];
            h[i] = t;
            i = m;
        }
    }
}
