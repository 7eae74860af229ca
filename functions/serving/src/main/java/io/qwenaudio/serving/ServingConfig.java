package io.qwenaudio.serving;

import io.quarkus.runtime.configuration.MemorySize;
import io.qwenaudio.runtime.ExecutionProvider;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Every {@code qwen-audio.*} configuration key of the stage functions, with its default. Set them in
 * {@code application.properties} or as environment variables ({@code QWEN_AUDIO_ARTIFACTS_DIR}, ...).
 * {@link ServingSetup} validates the values at start and names the bad key.
 */
@ConfigMapping(prefix = "qwen-audio")
public interface ServingConfig {

    /** The artifacts directory made by {@code qwen-audio convert} (holds manifest.json). */
    Optional<Path> artifactsDir();

    Runtime runtime();

    Encode encode();

    Audio audio();

    Payload payload();

    Adapt adapt();

    Generate generate();

    Http http();

    Events events();

    Memory memory();

    Demo demo();

    Openai openai();

    /**
     * {@code embedded} (default): this process runs its stages. {@code gateway} (the app only): no model is loaded; each
     * request becomes an event sent through a Knative RequestReply ({@link Gateway}) to the stage Services.
     */
    @WithDefault("embedded")
    @WithConverter(ConfigConverters.ModeConverter.class)
    Mode mode();

    Gateway gateway();

    /** What the process does with requests ({@code qwen-audio.mode}). */
    enum Mode {
        /** Runs the stages in this process. */
        EMBEDDED,
        /** Loads no model; sends every request through the event mesh and answers with the terminal event. */
        GATEWAY
    }

    /** The app in {@code qwen-audio.mode=gateway}: where requests go and how long an answer may take. */
    interface Gateway {
        /**
         * The RequestReply's address: {@code http://request-reply.knative-eventing.svc.cluster.local/<namespace>/<name>}.
         * Required in gateway mode.
         */
        Optional<URI> requestReplyUrl();

        /**
         * The Broker's address, where the gateway sends the {@code pipeline.failed} it makes of a dead-lettered event
         * (a SinkBinding sets {@code K_SINK}).
         */
        Optional<URI> brokerUrl();

        /** Longest wait for the terminal event; then 504. Longer than the RequestReply's own wait. */
        @WithDefault("70s")
        Duration timeout();
    }

    /** ONNX Runtime sessions: see {@link io.qwenaudio.runtime.RuntimeOptions}. */
    interface Runtime {
        /** {@code cpu} or {@code cuda}. */
        @WithDefault("cpu")
        @WithConverter(ConfigConverters.ExecutionProviderConverter.class)
        ExecutionProvider executionProvider();

        @WithDefault("0")
        int deviceId();

        /** When CUDA is asked for but missing: run on CPU (true) or refuse to start (false). */
        @WithDefault("false")
        boolean fallbackToCpu();

        /** Threads inside one operator; 0 = ONNX Runtime's choice (one per core). */
        @WithDefault("0")
        int intraOpThreads();

        @WithDefault("0")
        int interOpThreads();

        /** Check the sha256 of every loaded artifact file against manifest.json at start. */
        @WithDefault("true")
        boolean verifyChecksums();

        /** Run each loaded graph once at start so the first request is not slow. */
        @WithDefault("true")
        boolean warmup();

        /**
         * Let idle ONNX Runtime threads spin: lowest latency on dedicated cores; set false where processes or
         * encoder workers share few cores.
         */
        @WithDefault("true")
        boolean allowSpinning();

        /**
         * {@code on}: decode through ONNX Runtime's IO binding, so the KV cache stays in the execution provider's
         * memory (device memory under CUDA) between steps; {@code off}: the Java API's run (every output comes back
         * to host memory). Both give identical ids.
         */
        @WithDefault("on")
        String ioBinding();
    }

    /** Micro-batching of encoder windows across concurrent requests. */
    interface Encode {
        /** Largest number of 30 s windows in one encoder run. */
        @WithDefault("4")
        int maxBatch();

        /** How long the first window of a batch waits for others. */
        @WithDefault("5ms")
        Duration maxWait();

        /** Windows allowed to wait; beyond that requests are refused with 429 and Retry-After. */
        @WithDefault("64")
        int maxQueue();

        /** Encoder runs in parallel (1 per GPU; 1-2 on CPU, where one run already uses every core). */
        @WithDefault("1")
        int workers();
    }

    interface Audio {
        /** Longest accepted clip, in seconds. */
        @WithDefault("600")
        double maxDurationSeconds();
    }

    /** Tensors between stages: inline {@code .npy} up to a size, else by reference to a blob store. */
    interface Payload {
        /** Largest {@code .npy} carried inline in an event or answer; larger ones go to the blob store. */
        @WithDefault("100M")
        MemorySize inlineLimit();

        /** Encode tensors as float16 (half the size, ~3 significant digits). */
        @WithDefault("false")
        boolean fp16();

        /** {@code memory} (one process), {@code file} (a directory shared by all stage processes) or {@code none}. */
        @WithDefault("memory")
        @WithConverter(ConfigConverters.BlobStoreConverter.class)
        BlobStoreKind blobStore();

        /** Directory of the {@code file} blob store. */
        Optional<Path> blobDir();

        /** How long a blob store keeps a payload (both kinds; the file store deletes older files as it writes). */
        @WithDefault("10m")
        Duration blobTtl();

        /** Most bytes the {@code memory} blob store holds at once. */
        @WithDefault("2G")
        MemorySize blobMaxBytes();
    }

    /** Where tensors too large to travel inline are kept ({@code qwen-audio.payload.blob-store}). */
    enum BlobStoreKind {
        /** In this process's memory: the one-process app, or stages that never pass tensors by reference. */
        MEMORY,
        /** A directory shared by every stage process ({@code qwen-audio.payload.blob-dir}). */
        FILE,
        /** No store: tensors travel inline; one over {@code payload.inline-limit} is refused, as are references. */
        NONE
    }

    /** Domain adapters. */
    interface Adapt {
        /**
         * Recording environment -> adapter directory inside the artifacts, e.g.
         * {@code qwen-audio.adapt.environments.ldv=adapters/ldv}. Adding an environment is a configuration change.
         */
        Map<String, String> environments();
    }

    /** Text generation. */
    interface Generate {
        /** Generations running at once (each holds its own KV cache). */
        @WithDefault("2")
        int maxConcurrent();

        /** Generations allowed to wait for a slot; beyond that requests are refused with 429 and Retry-After. */
        @WithDefault("16")
        int maxWaiting();

        /** Audio clips accepted in one request. */
        @WithDefault("4")
        int maxClips();
    }

    interface Http {
        /**
         * Largest request body; larger requests get 413 with a JSON error. Also the longest JSON string accepted
         * (Jackson's {@code StreamReadConstraints.maxStringLength}), so a body under this limit is never refused for a
         * long base64 field.
         */
        @WithDefault("200M")
        MemorySize maxBodySize();

        /**
         * Longest time a request body may take to arrive; a slower one gets 408 and its connection is closed, so slow
         * or stalled uploads do not hold memory or threads.
         */
        @WithDefault("20s")
        Duration bodyTimeout();
    }

    /** Memory held by requests in flight. */
    interface Memory {
        /**
         * Most bytes that requests may hold at once (bodies, decoded audio, features, hidden states, KV caches of
         * generations); past it requests get 429 + Retry-After. Default: half of the JVM's maximum heap.
         */
        Optional<MemorySize> maxInFlight();
    }

    /** The embedded app's demo model, used when {@code qwen-audio.artifacts-dir} is not set. */
    interface Demo {
        /** Where `qwen-audio demo-model` made the tiny demo model (its artifacts are in {@code artifacts/}). */
        @WithDefault("qwen-audio-demo")
        Path dir();

        /** Answer one sample request through the whole chain after start and log it. */
        @WithDefault("true")
        boolean sampleRequest();
    }

    /** The OpenAI-compatible API of the embedded app. */
    interface Openai {
        /** The model id clients pass as {@code model} and {@code GET /v1/models} lists. */
        @WithDefault("qwen2-audio")
        String modelName();
    }

    interface Events {
        /** Replies remembered per event id, so a redelivered event is answered, not processed again. */
        @WithDefault("10000")
        int dedupEntries();

        @WithDefault("30m")
        Duration dedupTtl();

        /** Most bytes of remembered replies (an encode reply holds the hidden states: ~4 MB per 30 s at d=1280). */
        @WithDefault("256M")
        MemorySize dedupMaxBytes();

        /** The CloudEvent source of this process's replies. */
        @WithDefault("qwen-audio")
        String source();

        /**
         * The extension a Knative RequestReply sets on a request event ({@code spec.correlationAttribute}); every stage
         * copies it onto the event it answers with. Not {@code correlationid}, which carries the request id.
         */
        @WithDefault("replycorrelation")
        String replyCorrelationAttribute();

        /**
         * The extension that marks a terminal event as the reply to a RequestReply request
         * ({@code spec.replyAttribute}): set to the request's {@link #replyCorrelationAttribute()} value.
         */
        @WithDefault("replyid")
        String replyAttribute();
    }
}
