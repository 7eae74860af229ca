package io.qwenaudio.serving;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

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
    @WithName("artifacts-dir")
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

    /** ONNX Runtime sessions: see {@link io.qwenaudio.runtime.RuntimeOptions}. */
    interface Runtime {
        /** {@code cpu} or {@code cuda}. */
        @WithName("execution-provider")
        @WithDefault("cpu")
        String executionProvider();

        @WithName("device-id")
        @WithDefault("0")
        int deviceId();

        /** When CUDA is asked for but missing: run on CPU (true) or refuse to start (false). */
        @WithName("fallback-to-cpu")
        @WithDefault("false")
        boolean fallbackToCpu();

        /** Threads inside one operator; 0 = ONNX Runtime's choice (one per core). */
        @WithName("intra-op-threads")
        @WithDefault("0")
        int intraOpThreads();

        @WithName("inter-op-threads")
        @WithDefault("0")
        int interOpThreads();

        /** Check the sha256 of every loaded artifact file against manifest.json at start. */
        @WithName("verify-checksums")
        @WithDefault("true")
        boolean verifyChecksums();

        /** Run each loaded graph once at start so the first request is not slow. */
        @WithDefault("true")
        boolean warmup();

        /**
         * Let idle ONNX Runtime threads spin: lowest latency on dedicated cores; set false where processes or
         * encoder workers share few cores.
         */
        @WithName("allow-spinning")
        @WithDefault("true")
        boolean allowSpinning();

        /**
         * {@code on}: decode through ONNX Runtime's IO binding, so the KV cache stays in the execution provider's
         * memory (device memory under CUDA) between steps; {@code off}: the Java API's run (every output comes back
         * to host memory). Both give identical ids.
         */
        @WithName("io-binding")
        @WithDefault("on")
        String ioBinding();
    }

    /** Micro-batching of encoder windows across concurrent requests. */
    interface Encode {
        /** Largest number of 30 s windows in one encoder run. */
        @WithName("max-batch")
        @WithDefault("4")
        int maxBatch();

        /** How long the first window of a batch waits for others. */
        @WithName("max-wait")
        @WithDefault("5ms")
        Duration maxWait();

        /** Windows allowed to wait; beyond that requests are refused with 429 and Retry-After. */
        @WithName("max-queue")
        @WithDefault("64")
        int maxQueue();

        /** Encoder runs in parallel (1 per GPU; 1-2 on CPU, where one run already uses every core). */
        @WithDefault("1")
        int workers();
    }

    interface Audio {
        /** Longest accepted clip, in seconds. */
        @WithName("max-duration-seconds")
        @WithDefault("600")
        double maxDurationSeconds();
    }

    /** Tensors between stages: inline {@code .npy} up to a size, else by reference to a blob store. */
    interface Payload {
        /** Largest {@code .npy} carried inline in an event or answer; larger ones go to the blob store. */
        @WithName("inline-limit")
        @WithDefault("100M")
        MemorySize inlineLimit();

        /** Encode tensors as float16 (half the size, ~3 significant digits). */
        @WithDefault("false")
        boolean fp16();

        /** {@code memory} (one process), {@code file} (a directory shared by all stage processes) or {@code none}. */
        @WithName("blob-store")
        @WithDefault("memory")
        String blobStore();

        /** Directory of the {@code file} blob store. */
        @WithName("blob-dir")
        Optional<Path> blobDir();

        /** How long a blob store keeps a payload (both kinds; the file store deletes older files as it writes). */
        @WithName("blob-ttl")
        @WithDefault("10m")
        Duration blobTtl();

        /** Most bytes the {@code memory} blob store holds at once. */
        @WithName("blob-max-bytes")
        @WithDefault("2G")
        MemorySize blobMaxBytes();
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
        @WithName("max-concurrent")
        @WithDefault("2")
        int maxConcurrent();

        /** Generations allowed to wait for a slot; beyond that requests are refused with 429 and Retry-After. */
        @WithName("max-waiting")
        @WithDefault("16")
        int maxWaiting();

        /** Audio clips accepted in one request. */
        @WithName("max-clips")
        @WithDefault("4")
        int maxClips();
    }

    interface Http {
        /**
         * Largest request body; larger requests get 413 with a JSON error. Also the longest JSON string accepted
         * (Jackson's {@code StreamReadConstraints.maxStringLength}), so a body under this limit is never refused for a
         * long base64 field.
         */
        @WithName("max-body-size")
        @WithDefault("200M")
        MemorySize maxBodySize();

        /**
         * Longest time a request body may take to arrive; a slower one gets 408 and its connection is closed, so slow
         * or stalled uploads do not hold memory or threads.
         */
        @WithName("body-timeout")
        @WithDefault("20s")
        Duration bodyTimeout();
    }

    /** Memory held by requests in flight. */
    interface Memory {
        /**
         * Most bytes that requests may hold at once (bodies, decoded audio, features, hidden states, KV caches of
         * generations); past it requests get 429 + Retry-After. Default: half of the JVM's maximum heap.
         */
        @WithName("max-in-flight")
        Optional<MemorySize> maxInFlight();
    }

    /** The embedded app's demo model, used when {@code qwen-audio.artifacts-dir} is not set. */
    interface Demo {
        /** Where `qwen-audio demo-model` made the tiny demo model (its artifacts are in {@code artifacts/}). */
        @WithDefault("qwen-audio-demo")
        Path dir();

        /** Answer one sample request through the whole chain after start and log it. */
        @WithName("sample-request")
        @WithDefault("true")
        boolean sampleRequest();
    }

    /** The OpenAI-compatible API of the embedded app. */
    interface Openai {
        /** The model id clients pass as {@code model} and {@code GET /v1/models} lists. */
        @WithName("model-name")
        @WithDefault("qwen2-audio")
        String modelName();
    }

    interface Events {
        /** Replies remembered per event id, so a redelivered event is answered, not processed again. */
        @WithName("dedup-entries")
        @WithDefault("10000")
        int dedupEntries();

        @WithName("dedup-ttl")
        @WithDefault("30m")
        Duration dedupTtl();

        /** Most bytes of remembered replies (an encode reply holds the hidden states: ~4 MB per 30 s at d=1280). */
        @WithName("dedup-max-bytes")
        @WithDefault("256M")
        MemorySize dedupMaxBytes();

        /** The CloudEvent source of this process's replies. */
        @WithDefault("qwen-audio")
        String source();
    }
}
