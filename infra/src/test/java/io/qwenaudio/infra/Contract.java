package io.qwenaudio.infra;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fixed deployment contract the manifests implement: which apps exist, which Funqy functions each app
 * serves, which event types enter from outside or end a flow, which stages need a GPU. Event types and
 * configuration keys are not copied here: they are read from the apps' application.properties.
 */
final class Contract {

    private Contract() {
    }

    static final String PREFIX = "io.qwenaudio.";

    /** Deployable apps: module name under functions/ and Knative Service name. */
    static final List<String> APPS = List.of("encode-function", "adapt-function", "generate-function");

    /** Stages that get {@code nvidia.com/gpu: 1} in the gpu overlay. */
    static final Set<String> GPU_STAGES = Set.of("encode-function", "adapt-function", "generate-function");

    /**
     * The log of terminal events (for callers who post to the Broker directly) and the dead-letter sink of the
     * Broker's default delivery: a Knative Service that is not one of the apps.
     */
    static final String RESULT_SINK = "pipeline-results";

    /**
     * The cloud front door: the Knative Service running the one-process app in gateway mode. It calls the chain
     * through the RequestReply, takes the stage Triggers' dead letters, and is the only Service reachable from
     * outside the cluster.
     */
    static final String GATEWAY = "gateway";

    /** The module under functions/ the gateway's image is built from; it reads the stage apps' configuration too. */
    static final String GATEWAY_APP = "app";

    /** Value of {@code qwen-audio.mode} that makes the app a gateway. */
    static final String GATEWAY_MODE = "gateway";

    /** The gateway's path for dead letters (the stage Triggers' deadLetterSink uri). */
    static final String DEAD_LETTER_PATH = "/v1/events/dead-letter";

    /** Extension every event carries the request id in; the RequestReply's attributes must be other names. */
    static final String CORRELATION_EXTENSION = "correlationid";

    /** Knative Serving's label that keeps a Service off the ingress, and its value. */
    static final String VISIBILITY_LABEL = "networking.knative.dev/visibility";
    static final String CLUSTER_LOCAL = "cluster-local";

    static final String MODE_KEY = "qwen-audio.mode";
    static final String REQUEST_REPLY_URL_KEY = "qwen-audio.gateway.request-reply-url";
    static final String GATEWAY_TIMEOUT_KEY = "qwen-audio.gateway.timeout";
    /** The attribute a stage copies from the event it got onto its answer (the RequestReply's correlationAttribute). */
    static final String REPLY_CORRELATION_KEY = "qwen-audio.events.reply-correlation-attribute";
    /** The attribute a terminal event carries that value in (the RequestReply's replyAttribute). */
    static final String REPLY_ATTRIBUTE_KEY = "qwen-audio.events.reply-attribute";

    /** Event types sent into the Broker by clients, not produced by a function. */
    static final Set<String> INGRESS_TYPES = Set.of(PREFIX + "audio.received", PREFIX + "embedding.requested");

    /** Produced by any stage when it fails (not a Funqy response type). */
    static final String FAILURE_TYPE = PREFIX + "pipeline.failed";

    /** Types that end a flow: no function consumes them; the result sink does. */
    static final Set<String> TERMINAL_TYPES = Set.of(PREFIX + "text.generated", PREFIX + "embedding.created", FAILURE_TYPE);

    /**
     * A flow through the Broker: the event type a client sends, the apps its events pass through in order, and
     * the type that comes out at the end.
     */
    record Flow(String start, List<String> apps, String end) {
    }

    static final List<Flow> FLOWS = List.of(
            new Flow(PREFIX + "audio.received", List.of("encode-function", "adapt-function", "generate-function"),
                    PREFIX + "text.generated"),
            new Flow(PREFIX + "embedding.requested", List.of("encode-function"), PREFIX + "embedding.created"));

    /** Map-typed configuration whose keys are free (environment name -> adapter directory). */
    static final Set<String> MAP_PREFIXES = Set.of("qwen-audio.adapt.environments.");

    /** CloudEvent extension that selects the adapter. */
    static final String ENVIRONMENT_EXTENSION = "environment";

    /**
     * Environment variables read by the container's JVM launcher (the run-java script of the Quarkus container
     * images), not by SmallRye Config. Their values may hold JVM options only.
     */
    static final Set<String> LAUNCHER_ENV = Set.of("JAVA_OPTS_APPEND");

    static final String LIVENESS_DEFAULT = "/q/health/live";
    static final String READINESS_DEFAULT = "/q/health/ready";

    /** Model sizes the sizing is derived from (bytes of weights resident in memory). */
    static final long ENCODER_FP32_BYTES = 2_500_000_000L;
    static final long DECODER_FP16_BYTES = 16_000_000_000L;
    /** KV cache per token in fp16 (32 layers x 2 x 4096 x 2 bytes). */
    static final long KV_BYTES_PER_TOKEN = 512L * 1024;

    /** The overlays and what each must be. */
    static final List<String> OVERLAYS = List.of("cpu", "gpu", "dev");
}
