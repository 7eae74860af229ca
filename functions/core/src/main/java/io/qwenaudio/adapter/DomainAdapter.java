package io.qwenaudio.adapter;

import io.qwenaudio.runtime.OrtTensors;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.tensor.FloatTensor;

/**
 * One domain adapter on ONNX Runtime ({@code adapters/<NAME>/adapter.onnx}: hidden_states [B,N,d] -> adapted
 * [B,N,d], gate [B,N,1|d]) with the health signals users watch: gate mean/min/max (roughly 0.3-0.7 is healthy)
 * and the relative size of the change, |out - x| / |x|. Thread-safe.
 */
public final class DomainAdapter implements AutoCloseable {

    /** Adapted features [N, d] and the adapter's health signals. */
    public record Result(FloatTensor adapted, double gateMean, double gateMin, double gateMax, double relativeDeltaNorm) {
    }

    private final String environment;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final int d;

    public DomainAdapter(String environment, OrtEnvironment env, OrtSession session, int d) {
        this.environment = environment;
        this.env = env;
        this.session = session;
        this.d = d;
    }

    public String environment() {
        return environment;
    }

    /** The graph's outputs for one clip: adapted [N, d] and the gate per token [N, 1] (scalar) or [N, d] (channel). */
    public record Outputs(FloatTensor adapted, FloatTensor gate) {
    }

    /** [N, d] -> adapted [N, d] and gate [N, 1|d], as the graph gives them. */
    public Outputs run(FloatTensor x) throws OrtException {
        TensorCodec.checkShape("hidden_states", x.shape(), -1, d);
        long n = x.dim(0);
        var out = OrtTensors.run(env, session, "hidden_states", FloatTensor.of(x.data(), 1, n, d));
        float[] g = out.get("gate").data();                                       // [1, N, 1|d]
        return new Outputs(FloatTensor.of(out.get("adapted").data(), n, d), FloatTensor.of(g, n, n == 0 ? 1 : g.length / n));
    }

    /** [N, d] -> [N, d]. */
    public Result adapt(FloatTensor x) throws OrtException {
        Outputs out = run(x);
        long n = x.dim(0);
        float[] y = out.adapted().data();
        float[] g = out.gate().data();
        double mean = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (float v : g) {
            mean += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double dd = 0, xx = 0;
        float[] xs = x.data();
        for (int i = 0; i < xs.length; i++) {
            double diff = y[i] - xs[i];
            dd += diff * diff;
            xx += (double) xs[i] * xs[i];
        }
        return new Result(FloatTensor.of(y, n, d), g.length == 0 ? 0 : mean / g.length, g.length == 0 ? 0 : min,
                g.length == 0 ? 0 : max, xx == 0 ? 0 : Math.sqrt(dd / xx));
    }

    /** Runs the graph once on a small input so that the first request does not pay for set-up. */
    public void warmup() throws OrtException {
        adapt(FloatTensor.of(new float[4 * d], 4, d));
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
