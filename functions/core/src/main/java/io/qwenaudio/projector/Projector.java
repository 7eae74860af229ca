package io.qwenaudio.projector;

import io.qwenaudio.runtime.OrtTensors;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.tensor.FloatTensor;

/**
 * The multi-modal projector on ONNX Runtime: audio hidden states {@code [N, d]} to language-model embeddings
 * {@code [N, H]} ({@code projector.onnx}: audio_hidden [B,N,d] -> audio_embeds [B,N,H]). Thread-safe.
 */
public final class Projector implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final int in;
    private final int out;

    public Projector(OrtEnvironment env, OrtSession session, int in, int out) {
        this.env = env;
        this.session = session;
        this.in = in;
        this.out = out;
    }

    /** [N, d] -> [N, H]. */
    public FloatTensor project(FloatTensor x) throws OrtException {
        TensorCodec.checkShape("audio_hidden", x.shape(), -1, in);
        long n = x.dim(0);
        FloatTensor y = OrtTensors.run(env, session, "audio_hidden", FloatTensor.of(x.data(), 1, n, in)).get("audio_embeds");
        return FloatTensor.of(y.data(), n, out); // [N, H]
    }

    /** Runs the graph once on a small input so that the first request does not pay for set-up. */
    public void warmup() throws OrtException {
        project(FloatTensor.of(new float[4 * in], 4, in));
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
