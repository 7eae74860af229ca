package io.qwenaudio.serving;

import ai.onnxruntime.OrtException;
import io.qwenaudio.runtime.ModelArtifacts;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.Locale;
import java.util.logging.Logger;

/**
 * Loads one stage's models at start (checksums, sessions, warm-up) and hands the stage to the functions: reports
 * the component as loading, then ready (with what it loaded and how long it took) or failed on
 * {@code /q/health/ready}, logs start-up time and memory, and closes the stage at shutdown.
 *
 * @param <T> the stage (owns its ONNX Runtime sessions)
 */
public abstract class StageLoader<T extends AutoCloseable> {

    private static final Logger LOG = Logger.getLogger(StageLoader.class.getName());

    @Inject
    protected ServingSetup setup;

    @Inject
    protected ModelReadiness readiness;

    @Inject
    protected StageMetrics metrics;

    private volatile T stage;

    /** The readiness component name, e.g. {@code audio_encoder}. */
    protected abstract String component();

    /** Opens the stage from the artifacts (and warms it up when configured); closes what it opened on failure. */
    protected abstract T load(ModelArtifacts artifacts) throws OrtException;

    /** What was loaded, for the readiness detail and the log, e.g. {@code "1 adapter(s) [ldv]"}. */
    protected abstract String describe(T stage);

    void start(@Observes StartupEvent e) {
        if (setup.gatewayMode()) return; // the gateway sends requests to the stage Services and loads no model
        get();
    }

    /** The stage, loaded on first use (at start). */
    public T get() {
        T s = stage;
        if (s != null) return s;
        synchronized (this) {
            if (stage == null) stage = loadReporting();
            return stage;
        }
    }

    private T loadReporting() {
        readiness.loading(component());
        long t0 = System.nanoTime();
        try {
            ModelArtifacts a = setup.artifacts();
            LOG.info("loading " + component() + " from " + a.directory() + " on " + a.provider());
            T s = load(a);
            String detail = String.format(Locale.ROOT, "%s ready on %s in %.1f s", describe(s), a.provider(),
                    (System.nanoTime() - t0) / 1e9);
            readiness.ready(component(), detail);
            LOG.info(component() + ": " + detail + "; " + ProcessInfo.summary());
            return s;
        } catch (RuntimeException | OrtException ex) {
            readiness.failed(component(), ex.getMessage());
            if (ex instanceof RuntimeException re) throw re;
            throw new IllegalStateException("cannot load " + component() + ": " + ex.getMessage(), ex);
        }
    }

    /** Whether warm-up runs are configured. */
    protected boolean warmup() {
        return setup.config().runtime().warmup();
    }

    @PreDestroy
    void close() throws Exception {
        if (stage != null) stage.close();
    }
}
