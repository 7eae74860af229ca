package io.qwenaudio.pipeline;

import ai.onnxruntime.OrtException;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.runtime.SessionFactory;

import java.nio.file.Path;
import java.util.function.IntConsumer;
import java.util.logging.Logger;

/**
 * An artifacts directory opened for serving: reads {@code manifest.json}, verifies every file's sha256 (unless
 * switched off), and creates the stage objects on the execution provider chosen by {@link RuntimeOptions}. The
 * stage objects it returns are owned by the caller (close them); they share this object's environment.
 */
public final class ModelArtifacts {

    private static final Logger LOG = Logger.getLogger(ModelArtifacts.class.getName());

    private final Path dir;
    private final Manifest manifest;
    private final SessionFactory sessions;

    private ModelArtifacts(Path dir, Manifest manifest, SessionFactory sessions) {
        this.dir = dir;
        this.manifest = manifest;
        this.sessions = sessions;
    }

    public static ModelArtifacts open(Path dir, RuntimeOptions options) {
        long t0 = System.nanoTime();
        Manifest m = Manifest.read(dir);
        if (options.verifyChecksums()) {
            m.verify(dir);
            LOG.info(String.format("verified %d artifact files in %.1f s", m.files().size(), (System.nanoTime() - t0) / 1e9));
        }
        return new ModelArtifacts(dir, m, new SessionFactory(options));
    }

    public Manifest manifest() {
        return manifest;
    }

    public String provider() {
        return sessions.provider();
    }

    public AudioEncoder encoder(AudioEncoder.Batching batching, IntConsumer batchSizes) throws OrtException {
        return new AudioEncoder(sessions.environment(), sessions.open(graph(Manifest.AUDIO_ENCODER)),
                manifest.audio().dModel(), batching, batchSizes);
    }

    public Projector projector() throws OrtException {
        return new Projector(sessions.environment(), sessions.open(graph(Manifest.PROJECTOR)), manifest.audio().dModel(),
                manifest.text().hiddenSize());
    }

    /** The adapter converted under {@code name}; the error lists the adapters the artifacts have. */
    public DomainAdapter adapter(String name) throws OrtException {
        Manifest.AdapterSpec a = manifest.adapters() == null ? null : manifest.adapters().get(name);
        if (a == null) {
            throw new ArtifactsException("no domain adapter '" + name + "' in " + dir + " (it has "
                    + (manifest.adapters() == null ? "none" : manifest.adapters().keySet())
                    + "); add one with 'qwen-audio add-adapter " + dir + " " + name + "=<adapter-dir>'");
        }
        return new DomainAdapter(a.environment(), sessions.environment(), sessions.open(dir.resolve(a.graph().file())),
                manifest.audio().dModel());
    }

    private Path graph(String key) {
        return dir.resolve(manifest.graph(key).file());
    }
}
