package io.qwenaudio.functions.encode;

import io.qwenaudio.pipeline.AudioEncoder;
import io.qwenaudio.pipeline.ModelArtifacts;
import io.qwenaudio.serving.ModelReadiness;
import io.qwenaudio.serving.ProcessInfo;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.serving.StageMetrics;
import io.qwenaudio.stages.EncodeStage;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.logging.Logger;

/**
 * Loads the audio encoder at start (checksums, session, warm-up), reports readiness, and hands the
 * {@link EncodeStage} to the functions.
 */
@ApplicationScoped
public class EncodeStageBean {

    private static final Logger LOG = Logger.getLogger(EncodeStageBean.class.getName());
    static final String COMPONENT = "audio_encoder";

    @Inject
    ServingSetup setup;

    @Inject
    StageMetrics metrics;

    @Inject
    ModelReadiness readiness;

    private volatile AudioEncoder encoder;
    private volatile EncodeStage stage;

    void start(@Observes StartupEvent e) {
        get();
    }

    public EncodeStage get() {
        EncodeStage s = stage;
        if (s != null) return s;
        synchronized (this) {
            if (stage == null) load();
            return stage;
        }
    }

    private void load() {
        readiness.loading(COMPONENT);
        long t0 = System.nanoTime();
        try {
            ModelArtifacts a = setup.artifacts();
            LOG.info("loading the audio encoder from " + a.directory() + " on " + a.provider());
            encoder = a.encoder(setup.batching(), metrics.batchSizes("encode"));
            metrics.gauge("qwen_audio_queue_depth", "encode", encoder::queued);
            if (setup.config().runtime().warmup()) encoder.warmup();
            stage = new EncodeStage(encoder, setup.codec(), setup.audioLimits());
            String detail = String.format(java.util.Locale.ROOT, "ready on %s in %.1f s", a.provider(), (System.nanoTime() - t0) / 1e9);
            readiness.ready(COMPONENT, detail);
            LOG.info("audio encoder " + detail + " (d=" + encoder.dModel() + "); " + ProcessInfo.summary());
        } catch (RuntimeException | ai.onnxruntime.OrtException ex) {
            readiness.failed(COMPONENT, ex.getMessage());
            if (ex instanceof RuntimeException re) throw re;
            throw new IllegalStateException("cannot load the audio encoder: " + ex.getMessage(), ex);
        }
    }

    @PreDestroy
    void close() throws ai.onnxruntime.OrtException {
        if (encoder != null) encoder.close();
    }
}
