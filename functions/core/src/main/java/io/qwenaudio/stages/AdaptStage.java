package io.qwenaudio.stages;

import ai.onnxruntime.OrtException;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.adapter.DomainAdapter;
import io.qwenaudio.tensor.FloatTensor;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The adapt stage: hidden states {@code [N, d]} -> the domain adapter of the request's recording environment ->
 * {@code [N, d]}, with the adapter's gate statistics. No environment, or {@code none}, passes the tensor through
 * unchanged. Several adapters are loaded at once and picked per request. Thread-safe.
 */
public final class AdaptStage implements AutoCloseable {

    /** The environment name meaning "no adapter". */
    public static final String NONE = "none";

    private final Map<String, DomainAdapter> adapters;
    private final TensorCodec codec;
    private final int d;

    /** @param adapters environment name -> adapter (owned: closed with this stage) */
    public AdaptStage(Map<String, DomainAdapter> adapters, TensorCodec codec, int d) {
        this.adapters = new TreeMap<>(adapters);
        this.codec = codec;
        this.d = d;
    }

    public Set<String> environments() {
        return adapters.keySet();
    }

    /** {@code audio.encoded} -> {@code audio.adapted}. */
    public Wire.EncodedAudio adapt(Wire.EncodedAudio in) {
        if (in == null || in.hidden() == null) {
            throw StageException.badRequest("'hidden' is missing: send the encode stage's output "
                    + "{\"hidden\": {\"dtype\": \"float32\", \"shape\": [N, " + d + "], \"npy\": \"<base64>\"}, ...}");
        }
        String env = in.environment();
        if (env == null || env.isEmpty() || env.equalsIgnoreCase(NONE)) {
            FiniteValues.require("hidden", codec.decode(in.hidden(), "hidden", -1, d)); // validate even when passing through
            return in.withAdapted(in.hidden(), null, timings(in).withAdaptMs(0));
        }
        FloatTensor x = FiniteValues.require("hidden", codec.decode(in.hidden(), "hidden", -1, d)); // [N, d]
        long t0 = System.nanoTime();
        Adapted r = adapt(env, x);
        double ms = Math.round((System.nanoTime() - t0) / 1e4) / 100.0;
        return in.withAdapted(codec.encode(r.hidden()), r.stats(), timings(in).withAdaptMs(ms));
    }

    /** Adapted hidden states and the adapter's statistics (null stats for pass-through). */
    public record Adapted(FloatTensor hidden, Wire.AdapterStats stats) {
    }

    /**
     * Applies the adapter of {@code environment} to {@code [N, d]}; none / null / empty passes through.
     *
     * @throws StageException 422 for an environment without an adapter, or for NaN / Infinity in {@code x}
     */
    public Adapted adapt(String environment, FloatTensor x) {
        FiniteValues.require("hidden", x);
        if (environment == null || environment.isEmpty() || environment.equalsIgnoreCase(NONE)) return new Adapted(x, null);
        DomainAdapter a = adapter(environment);
        try {
            DomainAdapter.Result r = a.adapt(x); // [N, d]
            return new Adapted(r.adapted(), new Wire.AdapterStats(environment, r.gateMean(), r.gateMin(), r.gateMax(),
                    r.relativeDeltaNorm()));
        } catch (OrtException e) {
            throw new IllegalStateException("adapter '" + environment + "' failed: " + e.getMessage(), e);
        }
    }

    /**
     * The adapter of {@code environment} (not none).
     *
     * @throws StageException 422 for an environment without an adapter
     */
    public DomainAdapter adapter(String environment) {
        DomainAdapter a = environment == null ? null : adapters.get(environment);
        if (a == null) {
            throw new StageException(422, "unknown_environment", "unknown environment '" + environment + "'; accepted: "
                    + (adapters.isEmpty() ? "" : String.join(", ", adapters.keySet()) + ", ") + "none (or leave it out) "
                    + "for no adapter");
        }
        return a;
    }

    private static Wire.Timings timings(Wire.EncodedAudio in) {
        return in.timings() == null ? Wire.Timings.none() : in.timings();
    }

    @Override
    public void close() throws OrtException {
        for (DomainAdapter a : adapters.values()) a.close();
    }
}
