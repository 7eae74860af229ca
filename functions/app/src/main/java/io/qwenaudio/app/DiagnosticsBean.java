package io.qwenaudio.app;

import ai.onnxruntime.OrtException;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.diagnostics.AdapterDiagnostics;
import io.qwenaudio.diagnostics.DiagnosticsLimits;
import io.qwenaudio.diagnostics.Inspector;
import io.qwenaudio.functions.adapt.AdaptStageBean;
import io.qwenaudio.functions.encode.EncodeStageBean;
import io.qwenaudio.functions.generate.GenerateStageBean;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.stages.StageException;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The {@link Inspector} over the app's loaded stages. The adapters' diagnostics graphs are opened on the first
 * diagnostics request that names their environment, never by the serving path, and closed at shutdown.
 */
@ApplicationScoped
public class DiagnosticsBean {

    private static final Logger LOG = Logger.getLogger(DiagnosticsBean.class.getName());
    private static final String P = "qwen-audio.diagnostics.";

    @Inject
    DiagnosticsConfig config;

    @Inject
    ServingSetup setup;

    @Inject
    EncodeStageBean encode;

    @Inject
    AdaptStageBean adapt;

    @Inject
    GenerateStageBean generate;

    private final Map<String, AdapterDiagnostics> graphs = new ConcurrentHashMap<>();
    private volatile Inspector inspector;

    /** Checks the limits at start, naming the bad key. */
    void validate(@Observes StartupEvent e) {
        limits();
    }

    DiagnosticsLimits limits() {
        DiagnosticsConfig c = config;
        try {
            return new DiagnosticsLimits(c.melCells(), c.melColumns(), c.encoderTokens(), c.encoderChannels(),
                    c.seriesPoints(), c.attentionSide(), c.attentionTokens(), c.hiddenStatePositions(),
                    c.hiddenStateColumns()).validate();
        } catch (IllegalArgumentException ex) {
            String key = P + ex.getMessage().substring(0, ex.getMessage().indexOf(' '));
            throw new ConfigurationException(P + ex.getMessage(), Set.of(key));
        }
    }

    /** Diagnostics are on ({@code qwen-audio.diagnostics.enabled}) and there is a model in this process (not a gateway). */
    public boolean enabled() {
        return config.enabled() && !setup.gatewayMode();
    }

    /** Whether this process is a gateway (no model here). */
    public boolean gateway() {
        return setup.gatewayMode();
    }

    /** The inspector, made on first use. */
    public Inspector inspector() {
        Inspector i = inspector;
        if (i != null) return i;
        synchronized (this) {
            if (inspector == null) {
                inspector = new Inspector(encode.get(), adapt.get(), generate.get(), this::graph, generate.slots()::run,
                        limits());
            }
            return inspector;
        }
    }

    /** The environments the app has adapters for, sorted. */
    public Set<String> environments() {
        // a gateway has no adapters of its own: it lists those the adapt Service is configured with
        if (setup.gatewayMode()) return new TreeSet<>(setup.config().adapt().environments().keySet());
        return adapt.get().environments();
    }

    private AdapterDiagnostics graph(String environment) throws OrtException {
        AdapterDiagnostics g = graphs.get(environment);
        if (g != null) return g;
        synchronized (graphs) {
            g = graphs.get(environment);
            if (g != null) return g;
            String dir = setup.environments().get(environment);
            if (dir == null) throw new IllegalStateException("no adapter directory configured for environment '" + environment + "'");
            try {
                g = setup.artifacts().adapterDiagnosticsAt(dir);
            } catch (ArtifactsException ex) {
                throw new StageException(422, "no_diagnostics_graph", ex.getMessage());
            }
            LOG.info("adapter diagnostics graph for environment '" + environment + "' loaded from " + dir);
            graphs.put(environment, g);
            return g;
        }
    }

    @PreDestroy
    void close() throws OrtException {
        for (AdapterDiagnostics g : graphs.values()) g.close();
    }
}
