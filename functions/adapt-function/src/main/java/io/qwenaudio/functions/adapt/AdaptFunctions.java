package io.qwenaudio.functions.adapt;

import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.StageEvents;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import jakarta.inject.Inject;

/**
 * The adapt stage's functions. Plain HTTP (JSON): {@code POST /adapt}. CloudEvents (binary mode, {@code POST /}):
 * {@code audio.encoded -> audio.adapted}; the environment comes from the body or the {@code environment}
 * extension; failures answer {@code pipeline.failed}.
 */
public class AdaptFunctions {

    @Inject
    AdaptStageBean stage;

    @Inject
    StageEvents events;

    /** Hidden states [N, d] -> the chosen environment's adapter -> [N, d] with gate statistics. */
    @Funq("adapt")
    public Wire.EncodedAudio adapt(Wire.EncodedAudio request) {
        return events.http("adapt", () -> stage.get().adapt(request));
    }

    @Funq("adapt-event")
    public CloudEvent<Object> adaptEvent(CloudEvent<Wire.EncodedAudio> event) {
        String extEnv = event.extensions() == null ? null : event.extensions().get(EventTypes.ENVIRONMENT);
        return events.event("adapt", event, EventTypes.AUDIO_ADAPTED, (data, requestId) -> {
            Wire.EncodedAudio out = stage.get().adapt(data == null ? null : data.forRequest(requestId, extEnv));
            return new StageEvents.Out(out, out.environment());
        });
    }
}
