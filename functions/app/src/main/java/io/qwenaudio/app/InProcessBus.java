package io.qwenaudio.app;

import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.functions.adapt.AdaptFunctions;
import io.qwenaudio.functions.encode.EncodeFunctions;
import io.qwenaudio.functions.generate.GenerateFunctions;
import io.qwenaudio.serving.EventTriggers;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventBuilder;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The event bus of the one-process app: routes each CloudEvent to the stage function that consumes its type, the
 * same function objects and the same routing the Knative Triggers use (types read from the Funqy mappings), and
 * follows the replies until a terminal event ({@code text.generated}, {@code embedding.created},
 * {@code pipeline.failed}). No network hop and no serialisation: event data are passed as objects.
 */
@ApplicationScoped
public class InProcessBus {

    /** Types that end a chain. */
    public static final Set<String> TERMINAL = EventTypes.TERMINAL;

    @Inject
    EncodeFunctions encode;

    @Inject
    AdaptFunctions adapt;

    @Inject
    GenerateFunctions generate;

    private final Map<String, Function<CloudEvent<Object>, CloudEvent<Object>>> routes = new TreeMap<>();

    @PostConstruct
    void wire() {
        Map<String, Function<CloudEvent<Object>, CloudEvent<Object>>> byFunction = Map.of(
                "encode-event", e -> encode.encodeEvent(cast(e, Wire.EncodeRequest.class)),
                "embed-event", e -> encode.embedEvent(cast(e, Wire.EmbedRequest.class)),
                "adapt-event", e -> adapt.adaptEvent(cast(e, Wire.EncodedAudio.class)),
                "generate-event", e -> generate.generateEvent(cast(e, Wire.EncodedAudio.class)));
        for (Map.Entry<String, String> t : EventTriggers.triggers().entrySet()) {
            Function<CloudEvent<Object>, CloudEvent<Object>> f = byFunction.get(t.getValue());
            if (f == null) {
                throw new IllegalStateException("no in-process route for function '" + t.getValue() + "' (type "
                        + t.getKey() + "); known: " + byFunction.keySet());
            }
            routes.put(t.getKey(), f);
        }
    }

    /** The event types the bus routes, and nothing else. */
    public Set<String> types() {
        return routes.keySet();
    }

    /**
     * Publishes an event and runs the chain it starts on the calling thread; returns the terminal event.
     *
     * @throws IllegalArgumentException for a type no stage consumes
     */
    public CloudEvent<Object> run(CloudEvent<Object> event) {
        CloudEvent<Object> e = event;
        for (int hops = 0; hops < 16; hops++) {
            if (TERMINAL.contains(e.type())) return e;
            Function<CloudEvent<Object>, CloudEvent<Object>> f = routes.get(e.type());
            if (f == null) throw new IllegalArgumentException("no stage consumes '" + e.type() + "'; routed: " + routes.keySet());
            e = f.apply(e);
        }
        throw new IllegalStateException("event chain did not end after 16 hops at " + e.type());
    }

    /** A new event of {@code type} for request {@code requestId} (the event id is the request id plus the type). */
    public static CloudEvent<Object> event(String type, String requestId, String environment, Object data) {
        return CloudEventBuilder.create().id(requestId + "/" + type).type(type).source("qwen-audio/app")
                .extensions(EventTypes.extensions(requestId, environment)).build(data);
    }

    @SuppressWarnings("unchecked")
    private static <T> CloudEvent<T> cast(CloudEvent<Object> e, Class<T> type) {
        Object d = e.data();
        if (d != null && !type.isInstance(d)) {
            throw new IllegalStateException("event " + e.type() + " carries " + d.getClass().getSimpleName() + ", expected "
                    + type.getSimpleName());
        }
        return (CloudEvent<T>) (CloudEvent<?>) e;
    }
}
