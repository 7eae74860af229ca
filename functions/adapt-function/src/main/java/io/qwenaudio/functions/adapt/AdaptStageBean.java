package io.qwenaudio.functions.adapt;

import ai.onnxruntime.OrtException;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.adapter.DomainAdapter;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.serving.StageLoader;
import io.qwenaudio.stages.AdaptStage;
import io.quarkus.runtime.configuration.ConfigurationException;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * Loads every configured domain adapter at start ({@code qwen-audio.adapt.environments.<env>=<dir in the
 * artifacts>}) and hands the {@link AdaptStage} to the functions.
 */
@ApplicationScoped
public class AdaptStageBean extends StageLoader<AdaptStage> {

    private static final Logger LOG = Logger.getLogger(AdaptStageBean.class.getName());

    @Override
    protected String component() {
        return "domain_adapters";
    }

    @Override
    protected AdaptStage load(ModelArtifacts a) throws OrtException {
        Map<String, DomainAdapter> loaded = new TreeMap<>(); // sorted, for stable logs
        try {
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
                if (warmup()) d.warmup();
                LOG.info("adapter for environment '" + e.getKey() + "' loaded from " + e.getValue());
            }
        } catch (RuntimeException | OrtException ex) {
            for (DomainAdapter d : loaded.values()) d.close();
            throw ex;
        }
        if (loaded.isEmpty()) {
            LOG.warning("no domain adapter configured (qwen-audio.adapt.environments.<env>=<dir>): every request "
                    + "passes through unchanged");
        }
        return new AdaptStage(loaded, setup.codec(), a.manifest().audio().dModel());
    }

    @Override
    protected String describe(AdaptStage s) {
        return s.environments().size() + " adapter(s) " + s.environments();
    }
}
