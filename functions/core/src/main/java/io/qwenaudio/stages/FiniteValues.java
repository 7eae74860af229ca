package io.qwenaudio.stages;

import io.qwenaudio.tensor.FloatTensor;

import java.util.Arrays;

/**
 * Rejects tensors from a caller that hold NaN or +-Infinity before a model sees them: such values poison every
 * later layer (NaN logits, then no token can be chosen), so they are refused at the stage entry with 422 and the
 * position of the first bad value.
 */
public final class FiniteValues {

    private FiniteValues() {
    }

    /**
     * Returns {@code x} when every value is finite.
     *
     * @param what the tensor's name in the request, e.g. {@code "hidden"}
     * @throws StageException 422 {@code non_finite_values} naming the tensor, the first bad index and its value
     */
    public static FloatTensor require(String what, FloatTensor x) {
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            if (!Float.isFinite(d[i])) {
                throw new StageException(422, "non_finite_values", what + ": value " + d[i] + " at index "
                        + index(x.shape(), i) + " is not a finite number; send finite float32/float16 values only");
            }
        }
        return x;
    }

    /** The multi-dimensional index of flat position {@code flat} in a row-major tensor, e.g. {@code [3, 17]}. */
    static String index(long[] shape, long flat) {
        long[] at = new long[shape.length];
        for (int k = shape.length - 1; k >= 0; k--) {
            long n = Math.max(1, shape[k]);
            at[k] = flat % n;
            flat /= n;
        }
        return Arrays.toString(at);
    }
}
