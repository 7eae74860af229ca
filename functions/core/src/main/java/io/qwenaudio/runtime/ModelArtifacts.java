package io.qwenaudio.runtime;

import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.adapter.DomainAdapter;
import io.qwenaudio.diagnostics.AdapterDiagnostics;
import io.qwenaudio.projector.Projector;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.runtime.GraphSupport;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.runtime.SessionFactory;
import io.qwenaudio.text.ChatTemplate;
import io.qwenaudio.text.ChatTemplates;
import io.qwenaudio.text.Tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
    private final boolean verify;

    private ModelArtifacts(Path dir, Manifest manifest, SessionFactory sessions, boolean verify) {
        this.dir = dir;
        this.manifest = manifest;
        this.sessions = sessions;
        this.verify = verify;
    }

    /**
     * Reads the manifest. Checksums are verified per graph when a stage object is created, so that a stage
     * process hashes only the files it loads (the decoder of the real model alone is 16-33 GB).
     */
    public static ModelArtifacts open(Path dir, RuntimeOptions options) {
        Manifest m = Manifest.read(dir);
        return new ModelArtifacts(dir, m, new SessionFactory(options), options.verifyChecksums());
    }

    public Path directory() {
        return dir;
    }

    /** Opens a graph after checking its files against the manifest (when verification is on). */
    private OrtSession openVerified(Manifest.GraphSpec g) throws OrtException {
        if (verify) {
            long t0 = System.nanoTime();
            List<String> files = g.data() == null ? List.of(g.file()) : List.of(g.file(), g.data());
            manifest.verify(dir, files);
            LOG.info(String.format("verified %s in %.1f s", files, (System.nanoTime() - t0) / 1e9));
        }
        GraphSupport.require(g.file(), g, sessions.environment().getVersion(), sessions.provider());
        try {
            return sessions.open(dir.resolve(g.file()));
        } catch (OrtException e) {
            String why = GraphSupport.explain(g.file(), e.getMessage(), sessions.provider());
            if (why != null) throw new ArtifactsException(why, e);
            throw e;
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    public String provider() {
        return sessions.provider();
    }

    public AudioEncoder encoder(AudioEncoder.Batching batching, IntConsumer batchSizes) throws OrtException {
        return new AudioEncoder(sessions.environment(), openVerified(manifest.graph(Manifest.AUDIO_ENCODER)),
                manifest.audio().dModel(), batching, batchSizes);
    }

    public Projector projector() throws OrtException {
        return new Projector(sessions.environment(), openVerified(manifest.graph(Manifest.PROJECTOR)), manifest.audio().dModel(),
                manifest.text().hiddenSize());
    }

    /**
     * The adapter whose graph lies in {@code relativeDir} inside the artifacts (e.g. {@code adapters/ldv}), or,
     * failing that, the adapter converted under that name. The error lists the adapter directories there are.
     */
    public DomainAdapter adapterAt(String relativeDir) throws OrtException {
        return adapter(adapterNameAt(relativeDir));
    }

    /**
     * The diagnostics graph ({@code adapter_diagnostics.onnx}: gate, delta, every layer's attention weights) of the
     * adapter {@link #adapterAt} finds in {@code relativeDir}. Only the diagnostics endpoint opens it; serving never
     * does.
     */
    public AdapterDiagnostics adapterDiagnosticsAt(String relativeDir) throws OrtException {
        String name = adapterNameAt(relativeDir);
        Manifest.AdapterSpec a = manifest.adapters().get(name);
        if (a.diagnostics() == null) {
            throw new ArtifactsException("the adapter '" + name + "' in " + dir + " has no diagnostics graph (it was "
                    + "converted before adapter_diagnostics.onnx existed); convert it again with 'qwen-audio add-adapter "
                    + dir + " " + name + "=<adapter-dir> --force'");
        }
        return new AdapterDiagnostics(sessions.environment(), openVerified(a.diagnostics()), manifest.audio().dModel());
    }

    /** The manifest name of the adapter whose graph lies in {@code relativeDir}, or that is named so. */
    private String adapterNameAt(String relativeDir) {
        String want = relativeDir.replace('\\', '/').replaceAll("/+$", "");
        if (manifest.adapters() != null) {
            for (Map.Entry<String, Manifest.AdapterSpec> e : manifest.adapters().entrySet()) {
                String file = e.getValue().graph().file();
                String parent = file.contains("/") ? file.substring(0, file.lastIndexOf('/')) : "";
                if (parent.equals(want)) return e.getKey();
            }
            if (manifest.adapters().containsKey(want)) return want;
        }
        List<String> dirs = manifest.adapters() == null ? List.of() : manifest.adapters().values().stream()
                .map(a -> a.graph().file().substring(0, Math.max(0, a.graph().file().lastIndexOf('/')))).sorted().toList();
        throw new ArtifactsException("no domain adapter in " + dir.resolve(want) + " (the artifacts have "
                + (dirs.isEmpty() ? "none" : String.join(", ", dirs)) + "); add one with 'qwen-audio add-adapter " + dir
                + " NAME=<adapter-dir>'");
    }

    /**
     * The text generator: the {@code embed_tokens} and {@code decoder} sessions and the tokenizer files of the
     * artifacts directory (checked against the manifest when verification is on). The caller owns (closes) it.
     */
    public Generator generator() throws OrtException {
        if (verify && manifest.tokenizerFiles() != null) manifest.verify(dir, manifest.tokenizerFiles());
        Tokenizer tokenizer = Tokenizer.load(dir);
        OrtSession embed = null, decoder = null;
        try {
            embed = openVerified(manifest.graph(Manifest.EMBED_TOKENS));
            decoder = openVerified(manifest.graph(Manifest.DECODER));
            return new Generator(sessions.environment(), embed, decoder, tokenizer, manifest,
                    Generator.KvPlacement.forProvider(sessions.provider(), sessions.options().ioBinding()));
        } catch (OrtException | RuntimeException e) {
            if (decoder != null) decoder.close();
            if (embed != null) embed.close();
            tokenizer.close();
            throw e;
        }
    }

    /** The checkpoint's own chat template (copied at conversion), or the ChatML fallback when it had none. */
    public ChatTemplate chatTemplate() {
        if (verify && manifest.chatTemplate() != null) manifest.verify(dir, List.of(manifest.chatTemplate()));
        return ChatTemplates.forArtifacts(dir, manifest);
    }

    /** The adapter converted under {@code name}; the error lists the adapters the artifacts have. */
    public DomainAdapter adapter(String name) throws OrtException {
        Manifest.AdapterSpec a = manifest.adapters() == null ? null : manifest.adapters().get(name);
        if (a == null) {
            throw new ArtifactsException("no domain adapter '" + name + "' in " + dir + " (it has "
                    + (manifest.adapters() == null ? "none" : manifest.adapters().keySet())
                    + "); add one with 'qwen-audio add-adapter " + dir + " " + name + "=<adapter-dir>'");
        }
        return new DomainAdapter(a.environment(), sessions.environment(), openVerified(a.graph()),
                manifest.audio().dModel());
    }
}
