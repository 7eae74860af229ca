package io.qwenaudio.functions.generate;

import ai.onnxruntime.OrtException;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.pipeline.ModelArtifacts;
import io.qwenaudio.pipeline.Projector;
import io.qwenaudio.serving.ModelReadiness;
import io.qwenaudio.serving.ProcessInfo;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.serving.Slots;
import io.qwenaudio.serving.StageMetrics;
import io.qwenaudio.stages.GenerateStage;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Loads the projector, token embedding, decoder and tokenizer at start, warms them up, reports readiness, and
 * hands the {@link GenerateStage} and its concurrency {@link Slots} to the functions.
 */
@ApplicationScoped
public class GenerateStageBean {

    private static final Logger LOG = Logger.getLogger(GenerateStageBean.class.getName());
    static final String COMPONENT = "language_model";

    @Inject
    ServingSetup setup;

    @Inject
    ModelReadiness readiness;

    @Inject
    StageMetrics metrics;

    private volatile GenerateStage stage;
    private volatile Slots slots;

    void start(@Observes StartupEvent e) {
        get();
    }

    public GenerateStage get() {
        GenerateStage s = stage;
        if (s != null) return s;
        synchronized (this) {
            if (stage == null) load();
            return stage;
        }
    }

    /** Generation slots: {@code qwen-audio.generate.max-concurrent} running, {@code max-waiting} queued. */
    public Slots slots() {
        get();
        return slots;
    }

    private void load() {
        readiness.loading(COMPONENT);
        long t0 = System.nanoTime();
        var g = setup.config().generate();
        if (g.maxConcurrent() < 1) {
            throw new ConfigurationException("qwen-audio.generate.max-concurrent must be >= 1, got " + g.maxConcurrent(),
                    Set.of("qwen-audio.generate.max-concurrent"));
        }
        if (g.maxWaiting() < 0) {
            throw new ConfigurationException("qwen-audio.generate.max-waiting must be >= 0, got " + g.maxWaiting(),
                    Set.of("qwen-audio.generate.max-waiting"));
        }
        Projector projector = null;
        Generator generator = null;
        try {
            ModelArtifacts a = setup.artifacts();
            LOG.info("loading the projector and language model from " + a.directory() + " on " + a.provider());
            projector = a.projector();
            generator = a.generator();
            GenerateStage s = new GenerateStage(projector, generator, setup.codec(), a.manifest().audio().dModel());
            if (setup.config().runtime().warmup()) {
                projector.warmup();
                s.generate(java.util.List.of(io.qwenaudio.tensor.FloatTensor.of(new float[4 * a.manifest().audio().dModel()],
                        4, a.manifest().audio().dModel())), GenerateStage.conversation(null), null,
                        generator.defaults().withGreedy().withMaxNewTokens(2), null);
            }
            slots = new Slots("generate", g.maxConcurrent(), g.maxWaiting());
            metrics.gauge("qwen_audio_queue_depth", "generate", slots::inside);
            stage = s;
            String detail = String.format(Locale.ROOT, "ready on %s in %.1f s (%d layers, KV cache %d bytes/token)",
                    a.provider(), (System.nanoTime() - t0) / 1e9, a.manifest().text().numLayers(), generator.kvBytesPerToken());
            readiness.ready(COMPONENT, detail);
            LOG.info("language model " + detail + "; " + ProcessInfo.summary());
        } catch (RuntimeException | OrtException ex) {
            try {
                if (projector != null) projector.close();
                if (generator != null) generator.close();
            } catch (OrtException ignored) {
                // closing after a failed start
            }
            readiness.failed(COMPONENT, ex.getMessage());
            if (ex instanceof RuntimeException re) throw re;
            throw new IllegalStateException("cannot load the language model: " + ex.getMessage(), ex);
        }
    }

    @PreDestroy
    void close() throws OrtException {
        if (stage != null) stage.close();
    }
}
