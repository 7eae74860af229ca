package io.qwenaudio.serving;

import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.blobs.BlobStore;
import io.qwenaudio.blobs.FileBlobStore;
import io.qwenaudio.blobs.InMemoryBlobStore;
import io.qwenaudio.events.ReplyAttributes;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.MemoryBudget;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.runtime.RuntimeOptions;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.quarkus.runtime.configuration.MemorySize;
import jakarta.annotation.PreDestroy;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns {@link ServingConfig} into the plain-Java objects the stages use, validating every value first: a bad
 * value stops the process at start with a message naming the key, what was found and what is accepted.
 */
@ApplicationScoped
public class ServingSetup {

    static final String P = "qwen-audio.";

    @Inject
    ServingConfig config;

    @Inject
    Instance<ArtifactsFallback> fallback;

    private volatile ModelArtifacts artifacts;
    private volatile TensorCodec codec;
    private volatile MemoryBudget memory;

    public ServingConfig config() {
        return config;
    }

    /** Settings no component reads before the first event, checked at start so a bad one stops the process there. */
    void checkAtStart(@Observes @Priority(1) StartupEvent e) {
        replyAttributes();
    }

    /** Whether this process is the gateway ({@code qwen-audio.mode=gateway}): it loads no model. */
    public boolean gatewayMode() {
        return config.mode() == ServingConfig.Mode.GATEWAY;
    }

    /**
     * The RequestReply extensions ({@code qwen-audio.events.reply-correlation-attribute},
     * {@code qwen-audio.events.reply-attribute}), checked.
     */
    public ReplyAttributes replyAttributes() {
        ServingConfig.Events e = config.events();
        String correlationKey = P + "events.reply-correlation-attribute";
        String replyKey = P + "events.reply-attribute";
        try {
            ReplyAttributes.checkName("correlation attribute", e.replyCorrelationAttribute());
        } catch (IllegalArgumentException ex) {
            throw new ConfigurationException(correlationKey + ": " + ex.getMessage(), Set.of(correlationKey));
        }
        try {
            return new ReplyAttributes(e.replyCorrelationAttribute(), e.replyAttribute());
        } catch (IllegalArgumentException ex) {
            throw new ConfigurationException(replyKey + ": " + ex.getMessage(), Set.of(replyKey));
        }
    }

    /** The artifacts directory, opened once (manifest read; checksums are checked per graph as it loads). */
    public ModelArtifacts artifacts() {
        ModelArtifacts a = artifacts;
        if (a != null) return a;
        synchronized (this) {
            if (artifacts == null) artifacts = ModelArtifacts.open(artifactsDir(), runtimeOptions());
            return artifacts;
        }
    }

    /** {@code qwen-audio.artifacts-dir}, checked to exist and to hold a manifest. */
    public Path artifactsDir() {
        if (config.artifactsDir().isEmpty() && fallback.isResolvable()) return fallback.get().artifactsDir();
        Path dir = config.artifactsDir().orElseThrow(() -> new ConfigurationException(P + "artifacts-dir is not set: "
                + "point it at a directory made by 'qwen-audio convert' (env QWEN_AUDIO_ARTIFACTS_DIR)", Set.of(P + "artifacts-dir")));
        if (!Files.isRegularFile(dir.resolve(Manifest.FILE))) {
            throw new ConfigurationException(P + "artifacts-dir=" + dir + ": no " + Manifest.FILE + " there; make the "
                    + "directory with 'qwen-audio convert <checkpoint-dir> --out " + dir + "'", Set.of(P + "artifacts-dir"));
        }
        return dir;
    }

    /**
     * Recording environment -> adapter directory: {@code qwen-audio.adapt.environments.*}, or the fallback
     * model's adapters when the artifacts come from the fallback.
     */
    public Map<String, String> environments() {
        if (config.artifactsDir().isEmpty() && fallback.isResolvable() && config.adapt().environments().isEmpty()) {
            return fallback.get().environments();
        }
        return config.adapt().environments();
    }

    public RuntimeOptions runtimeOptions() {
        ServingConfig.Runtime r = config.runtime();
        try {
            RuntimeOptions o = new RuntimeOptions(r.executionProvider(), r.deviceId(), r.fallbackToCpu(), r.intraOpThreads(),
                    r.interOpThreads(), r.verifyChecksums(), r.warmup(), r.allowSpinning(),
                    RuntimeOptions.onOff("io-binding", r.ioBinding()));
            return o.validate();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(e.getMessage(), Set.of(firstWord(e.getMessage())));
        }
    }

    public AudioEncoder.Batching batching() {
        ServingConfig.Encode e = config.encode();
        positive("encode.max-batch", e.maxBatch());
        positive("encode.max-queue", e.maxQueue());
        positive("encode.workers", e.workers());
        if (e.maxWait().isNegative()) {
            throw new ConfigurationException(P + "encode.max-wait must be >= 0, got " + e.maxWait(), Set.of(P + "encode.max-wait"));
        }
        return new AudioEncoder.Batching(e.maxBatch(), e.maxWait(), e.maxQueue(), e.workers());
    }

    public AudioLimits audioLimits() {
        double s = config.audio().maxDurationSeconds();
        if (!(s > 0) || Double.isInfinite(s)) {
            throw new ConfigurationException(P + "audio.max-duration-seconds must be a positive number, got " + s,
                    Set.of(P + "audio.max-duration-seconds"));
        }
        return AudioLimits.DEFAULT.withMaxDurationSeconds(s);
    }

    /**
     * The process's budget of bytes held by requests in flight ({@code qwen-audio.memory.max-in-flight}, default half
     * the maximum heap), shared by the HTTP bodies and every stage.
     */
    public MemoryBudget memoryBudget() {
        MemoryBudget m = memory;
        if (m != null) return m;
        synchronized (this) {
            if (memory == null) {
                long bytes = config.memory().maxInFlight().map(MemorySize::asLongValue)
                        .orElse(Runtime.getRuntime().maxMemory() / 2);
                if (bytes < 1 << 20) {
                    throw new ConfigurationException(P + "memory.max-in-flight must be at least 1M, got " + bytes + " bytes",
                            Set.of(P + "memory.max-in-flight"));
                }
                memory = new MemoryBudget(bytes, P + "memory.max-in-flight");
            }
            return memory;
        }
    }

    /** Largest request body in bytes ({@code qwen-audio.http.max-body-size}), checked. */
    public long maxBodyBytes() {
        long b = config.http().maxBodySize().asLongValue();
        if (b < 1024) {
            throw new ConfigurationException(P + "http.max-body-size must be at least 1K, got " + b, Set.of(P + "http.max-body-size"));
        }
        return b;
    }

    /** The size limits in force, one line for the start-up log (README "Limits"). */
    public String limitsSummary() {
        return String.format(Locale.ROOT, "limits: body %s (%shttp.max-body-size, also the longest JSON string), body within "
                        + "%s s (%shttp.body-timeout), clip %.0f s (%saudio.max-duration-seconds), %d clips per chat "
                        + "(%sgenerate.max-clips), %.0f MiB in flight (%smemory.max-in-flight)",
                mib(maxBodyBytes()), P, config.http().bodyTimeout().toSeconds(), P, config.audio().maxDurationSeconds(), P,
                config.generate().maxClips(), P, memoryBudget().maxBytes() / 1048576.0, P);
    }

    private static String mib(long b) {
        return String.format(Locale.ROOT, "%.0f MiB", b / 1048576.0);
    }

    /** The tensor codec with its blob store, one per process. */
    public TensorCodec codec() {
        TensorCodec c = codec;
        if (c != null) return c;
        synchronized (this) {
            if (codec == null) {
                ServingConfig.Payload p = config.payload();
                long limit = p.inlineLimit().asLongValue();
                if (limit < 0) {
                    throw new ConfigurationException(P + "payload.inline-limit must be >= 0", Set.of(P + "payload.inline-limit"));
                }
                codec = new TensorCodec(blobStore(p), limit, p.fp16());
            }
            return codec;
        }
    }

    private BlobStore blobStore(ServingConfig.Payload p) {
        return switch (p.blobStore()) {
            case NONE -> null;
            case MEMORY -> new InMemoryBlobStore(p.blobTtl(), p.blobMaxBytes().asLongValue());
            case FILE -> {
                Path dir = p.blobDir().orElseThrow(() -> new ConfigurationException(P + "payload.blob-dir is not set, "
                        + "but " + P + "payload.blob-store=file needs a directory shared by the stage processes",
                        Set.of(P + "payload.blob-dir")));
                try {
                    Files.createDirectories(dir);
                } catch (IOException e) {
                    throw new ConfigurationException(P + "payload.blob-dir=" + dir + " cannot be created: " + e.getMessage(),
                            Set.of(P + "payload.blob-dir"));
                }
                yield new FileBlobStore(dir, p.blobTtl());
            }
        };
    }

    private static void positive(String key, int v) {
        if (v < 1) throw new ConfigurationException(P + key + " must be >= 1, got " + v, Set.of(P + key));
    }

    private static String firstWord(String s) {
        int i = s.indexOf(':');
        int j = s.indexOf(' ');
        int k = i < 0 ? j : j < 0 ? i : Math.min(i, j);
        return k < 0 ? s : s.substring(0, k);
    }

    @PreDestroy
    void close() {
        if (codec != null && codec.store() != null) codec.store().close();
    }
}
