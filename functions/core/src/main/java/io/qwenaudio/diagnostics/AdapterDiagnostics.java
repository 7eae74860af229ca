package io.qwenaudio.diagnostics;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.runtime.OrtTensors;
import io.qwenaudio.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One domain adapter's diagnostics graph ({@code adapters/<NAME>/adapter_diagnostics.onnx}): the adapter's math
 * with its attention probabilities as outputs. Opened only for diagnostics requests; the serving path runs the
 * adapter graph, which does not compute them. Thread-safe.
 *
 * <pre>
 * hidden_states [1, N, d] ─▶ gate [1, N, 1|d] · delta [1, N, d] · attention_weights.l [1, H, N, N] for each layer l
 * </pre>
 */
public final class AdapterDiagnostics implements AutoCloseable {

    /** Output name prefix of the per-layer attention probabilities. */
    public static final String ATTENTION = "attention_weights.";

    /**
     * One clip's outputs.
     *
     * @param gate      [N, 1] (scalar gate) or [N, d] (channel gate)
     * @param delta     [N, d], the adapter's change before scale and gate
     * @param attention per layer, [H, N, N] (rows: queries, columns: keys; each row sums to 1)
     */
    public record Outputs(FloatTensor gate, FloatTensor delta, List<FloatTensor> attention) {
    }

    private final OrtEnvironment env;
    private final OrtSession session;
    private final int d;
    private final int layers;

    public AdapterDiagnostics(OrtEnvironment env, OrtSession session, int d) throws OrtException {
        this.env = env;
        this.session = session;
        this.d = d;
        int l = 0;
        while (session.getOutputNames().contains(ATTENTION + l)) l++;
        if (l == 0 || !session.getOutputNames().contains("gate") || !session.getOutputNames().contains("delta")) {
            session.close();
            throw new ArtifactsException("the adapter diagnostics graph has outputs " + session.getOutputNames()
                    + ", expected gate, delta and " + ATTENTION + "0..; convert the adapter again "
                    + "('qwen-audio add-adapter <artifacts-dir> NAME=<adapter-dir> --force')");
        }
        this.layers = l;
    }

    /** Adapter layers (attention maps per clip). */
    public int layers() {
        return layers;
    }

    /** [N, d] -> gate, delta and every layer's attention probabilities. */
    public Outputs run(FloatTensor x) throws OrtException {
        TensorCodec.checkShape("hidden_states", x.shape(), -1, d);
        long n = x.dim(0);
        Map<String, FloatTensor> out = OrtTensors.run(env, session, "hidden_states", FloatTensor.of(x.data(), 1, n, d));
        FloatTensor g = out.get("gate");                                                  // [1, N, 1|d]
        List<FloatTensor> att = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            FloatTensor a = out.get(ATTENTION + l);                                       // [1, H, N, N]
            att.add(FloatTensor.of(a.data(), a.dim(1), n, n));
        }
        return new Outputs(FloatTensor.of(g.data(), n, g.dim(2)), FloatTensor.of(out.get("delta").data(), n, d), att);
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
