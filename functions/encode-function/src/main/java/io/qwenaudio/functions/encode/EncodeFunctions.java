package io.qwenaudio.functions.encode;

import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.StageEvents;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import jakarta.inject.Inject;

import java.util.UUID;

/**
 * The encode stage's functions. Plain HTTP (JSON): {@code POST /encode} and {@code POST /embed}. CloudEvents
 * (binary mode, {@code POST /}): {@code audio.received -> audio.encoded} and
 * {@code embedding.requested -> embedding.created}; failures answer {@code pipeline.failed}.
 */
public class EncodeFunctions {

    @Inject
    EncodeStageBean stage;

    @Inject
    StageEvents events;

    /** Audio -> hidden states [N, d] of the valid audio tokens (windows concatenated). */
    @Funq("encode")
    public Wire.EncodedAudio encode(Wire.EncodeRequest request) {
        String id = request != null && request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
        return events.http("encode", () -> stage.get().encode(request, id));
    }

    /** Encode-only embedding: hidden states and/or a pooled vector, with timings and duration. */
    @Funq("embed")
    public Wire.EmbedResponse embed(Wire.EmbedRequest request) {
        String id = request != null && request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
        return events.http("embed", () -> stage.get().embed(request, id));
    }

    @Funq("encode-event")
    public CloudEvent<Object> encodeEvent(CloudEvent<Wire.EncodeRequest> event) {
        String extEnv = event.extensions() == null ? null : event.extensions().get(EventTypes.ENVIRONMENT);
        return events.event("encode", event, EventTypes.AUDIO_ENCODED, (data, requestId) -> {
            Wire.EncodeRequest r = data;
            if (r != null && r.environment() == null && extEnv != null) {
                r = new Wire.EncodeRequest(r.audio(), r.audioRef(), extEnv, r.requestId(), r.generate());
            }
            Wire.EncodedAudio out = stage.get().encode(r, requestId);
            return new StageEvents.Out(out, out.environment());
        });
    }

    @Funq("embed-event")
    public CloudEvent<Object> embedEvent(CloudEvent<Wire.EmbedRequest> event) {
        return events.event("embed", event, EventTypes.EMBEDDING_CREATED,
                (data, requestId) -> new StageEvents.Out(stage.get().embed(data, requestId), null));
    }
}
