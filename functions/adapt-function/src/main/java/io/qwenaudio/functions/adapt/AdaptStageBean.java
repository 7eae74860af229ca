package io.qwenaudio.functions.adapt;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.pipeline.DomainAdapter;
import io.qwenaudio.pipeline.ModelArtifacts;
import io.qwenaudio.serving.ModelReadiness;
import io.qwenaudio.serving.ProcessInfo;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.stages.AdaptStage;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * Loads every configured domain adapter at start ({@code qwen-audio.adapt.environments.<env>=<dir in the
 * artifacts>}), warms each up, reports readiness, and hands the {@link AdaptStage} to the functions.
 */
@ApplicationScoped
public class AdaptStageBean {

    private static final Logger LOG = Logger.getLogger(AdaptStageBean.class.getName());
    static final String COMPONENT = "domain_adapters";

    @Inject
    ServingSetup setup;

    @Inject
    ModelReadiness readiness;

    private volatile AdaptStage stage;

    void start(@Observes StartupEvent e) {
        get();
    }

    public AdaptStage get() {
        AdaptStage s = stage;
        if (s != null) return s;
        synchronized (this) {
            if (stage == null) load();
            return stage;
        }
    }

    private void load() {
        readiness.loading(COMPONENT);
        long t0 = System.nanoTime();
        Map<String, DomainAdapter> loaded = new TreeMap<>(); // sorted, for stable logs
        try {
            ModelArtifacts a = setup.artifacts();
            for (Map.Entry<String, String> e : setup.environments().entrySet()) {
                String key = "qwen-audio.adapt.environments." + e.getKey();
                if (e.getKey().equalsIgnoreCase(AdaptStage.NONE)) {
                    throw new ConfigurationException(key + ": '" + AdaptStage.NONE + "' is reserved for pass-through; "
                            + "choose another environment name", Set.of(key));
                }
                DomainAdapter d;
                try {
                    d = a.adapterAt(e.getValue());
                } catch (ArtifactsException ex) {
                    throw new ConfigurationException(key + "=" + e.getValue() + ": " + ex.getMessage(), Set.of(key));
                }
                loaded.put(e.getKey(), d);
                if (setup.config().runtime().warmup()) d.warmup();
                LOG.info("adapter for environment '" + e.getKey() + "' loaded from " + e.getValue());
            }
            if (loaded.isEmpty()) {
                LOG.warning("no domain adapter configured (qwen-audio.adapt.environments.<env>=<dir>): every request "
                        + "passes through unchanged");
            }
            stage = new AdaptStage(loaded, setup.codec(), a.manifest().audio().dModel());
            String detail = String.format(Locale.ROOT, "%d adapter(s) %s ready on %s in %.1f s", loaded.size(),
                    loaded.keySet(), a.provider(), (System.nanoTime() - t0) / 1e9);
            readiness.ready(COMPONENT, detail);
            LOG.info(detail + "; " + ProcessInfo.summary());
        } catch (RuntimeException | ai.onnxruntime.OrtException ex) {
            for (DomainAdapter d : loaded.values()) {
                try {
                    d.close();
                } catch (ai.onnxruntime.OrtException ignored) {
                    // closing after a failed start
                }
            }
            readiness.failed(COMPONENT, ex.getMessage());
            if (ex instanceof RuntimeException re) throw re;
            throw new IllegalStateException("cannot load the domain adapters: " + ex.getMessage(), ex);
        }
    }

    @PreDestroy
    void close() throws ai.onnxruntime.OrtException {
        if (stage != null) stage.close();
    }
}
