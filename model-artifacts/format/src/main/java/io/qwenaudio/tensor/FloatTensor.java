package io.qwenaudio.tensor;

import java.util.Arrays;

/** A dense row-major float32 tensor: the unit passed between pipeline boxes in Java. */
public record FloatTensor(float[] data, long[] shape) {

    public FloatTensor {
        if (Npy.numElements(shape) != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Arrays.toString(shape));
        }
    }

    public static FloatTensor of(float[] data, long... shape) {
        return new FloatTensor(data, shape);
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
