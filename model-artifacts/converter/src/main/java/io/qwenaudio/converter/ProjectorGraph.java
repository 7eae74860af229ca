package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.TensorSource;

import static io.qwenaudio.converter.AudioOps.F32;

/**
 * {@code multi_modal_projector.linear} as an ONNX graph: {@code audio_hidden [B, N, d]} float32 ->
 * {@code audio_embeds [B, N, H]} float32. A float16 weight is cast to float32 in-graph; the bias stays float32.
 */
public final class ProjectorGraph {

    private ProjectorGraph() {
    }

    public static void build(GraphBuilder g, TensorSource w) {
        long[] s = w.shape("multi_modal_projector.linear.weight"); // [H, d]
        int hidden = (int) s[0], d = (int) s[1];
        String x = g.input("audio_hidden", F32, "batch", "tokens", (long) d);
        String y = AudioOps.linear(g, "/multi_modal_projector/linear", x, w.floats("multi_modal_projector.linear.weight", hidden, d),
                w.floats("multi_modal_projector.linear.bias", hidden), d, hidden); // [B, N, H]
        g.outputAs(y, "audio_embeds", F32, "batch", "tokens", (long) hidden);
    }
}
