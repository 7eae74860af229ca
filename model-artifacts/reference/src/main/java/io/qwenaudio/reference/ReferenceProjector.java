package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.TensorSource;

/** Naive forward of {@code multi_modal_projector.linear}: audio features [n, d] -> LM embeddings [n, H]. */
public final class ReferenceProjector {

    private final float[] weight; // [H, d]
    private final float[] bias;   // [H]
    private final int d, hidden;

    public ReferenceProjector(TensorSource w) {
        long[] s = w.shape("multi_modal_projector.linear.weight");
        this.hidden = (int) s[0];
        this.d = (int) s[1];
        this.weight = w.floats("multi_modal_projector.linear.weight", hidden, d);
        this.bias = w.floats("multi_modal_projector.linear.bias", hidden);
    }

    /** x [n, d] -> [n, H]. */
    public float[] forward(float[] x, int n) {
        if (x.length != n * d) throw new IllegalArgumentException("expected " + n + " x " + d + " values, found " + x.length);
        return AudioMath.linear(x, n, weight, bias, d, hidden);
    }
}
