package io.qwenaudio.events;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The CloudEvent contract between stages. Every type lives under one reverse-DNS prefix; every event carries the
 * request id in the {@value #CORRELATION} extension and, when one is chosen, the recording environment in the
 * {@value #ENVIRONMENT} extension (so a Trigger can route on it).
 *
 * <pre>
 * audio.received ─encode─▶ audio.encoded ─adapt─▶ audio.adapted ─generate─▶ text.generated
 *        └─embed─▶ embedding.created                   any stage failure ─▶ pipeline.failed
 * </pre>
 */
public final class EventTypes {
    private EventTypes() {
    }

    public static final String PREFIX = "io.qwenaudio.";
    public static final String AUDIO_RECEIVED = PREFIX + "audio.received";
    public static final String AUDIO_ENCODED = PREFIX + "audio.encoded";
    public static final String AUDIO_ADAPTED = PREFIX + "audio.adapted";
    public static final String TEXT_GENERATED = PREFIX + "text.generated";
    public static final String EMBEDDING_REQUESTED = PREFIX + "embedding.requested";
    public static final String EMBEDDING_CREATED = PREFIX + "embedding.created";
    public static final String PIPELINE_FAILED = PREFIX + "pipeline.failed";

    /** CloudEvent extension holding the request id (lower-case letters only, as the spec requires). */
    public static final String CORRELATION = "correlationid";
    /** CloudEvent extension holding the recording environment, absent or {@code none} for pass-through. */
    public static final String ENVIRONMENT = "environment";

    /** The extensions every event of a request carries: the request id, and the environment when one is chosen. */
    public static Map<String, String> extensions(String requestId, String environment) {
        Map<String, String> ext = new TreeMap<>();
        ext.put(CORRELATION, requestId);
        if (environment != null && !environment.isBlank()) ext.put(ENVIRONMENT, environment);
        return ext;
    }

    /** Types that end a chain: the answer to the request. */
    public static final Set<String> TERMINAL = Set.of(TEXT_GENERATED, EMBEDDING_CREATED, PIPELINE_FAILED);

    public static final List<String> ALL = List.of(AUDIO_RECEIVED, AUDIO_ENCODED, AUDIO_ADAPTED, TEXT_GENERATED,
            EMBEDDING_REQUESTED, EMBEDDING_CREATED, PIPELINE_FAILED);
}
