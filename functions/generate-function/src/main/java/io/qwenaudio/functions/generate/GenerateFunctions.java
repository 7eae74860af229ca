package io.qwenaudio.functions.generate;

import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.TensorPayload;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.ServingSetup;
import io.qwenaudio.serving.StageEvents;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.stages.StageException;
import io.qwenaudio.tensor.FloatTensor;
import io.quarkus.funqy.Funq;
import io.quarkus.funqy.knative.events.CloudEvent;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The generate stage's functions. Plain HTTP (JSON): {@code POST /generate} (audio hidden states + options ->
 * text) and {@code POST /hidden-states} (no-decode mode: every layer's hidden states for the prompt).
 * CloudEvents (binary mode, {@code POST /}): {@code audio.adapted -> text.generated}; failures answer
 * {@code pipeline.failed}.
 */
public class GenerateFunctions {

    @Inject
    GenerateStageBean stage;

    @Inject
    StageEvents events;

    @Inject
    ServingSetup setup;

    /** Hidden states [N, d] (as the adapt stage emits them) + {@code generate} options -> text. */
    @Funq("generate")
    public Wire.TextGenerated generate(Wire.EncodedAudio request) {
        Wire.EncodedAudio r = request == null ? null
                : request.forRequest(request.requestId() != null ? request.requestId() : UUID.randomUUID().toString(), null);
        return events.http("generate", () -> stage.slots().run(() -> stage.get().generate(r, null)));
    }

    /** No-decode mode: L+1 hidden states [S, H] of the prompt with the audio spliced in. */
    @Funq("hidden-states")
    public Wire.HiddenStates hiddenStates(Wire.EncodedAudio request) {
        return events.http("hidden-states", () -> stage.slots().run(() -> {
            if (request == null || request.hidden() == null) throw StageException.badRequest("'hidden' is missing");
            GenerateStage s = stage.get();
            FloatTensor x = setup.codec().decode(request.hidden(), "hidden", -1, s.generator().manifest().audio().dModel());
            Wire.GenerateParams p = request.generate();
            List<FloatTensor> layers = s.hiddenStates(List.of(x), p);
            List<TensorPayload> out = new ArrayList<>(layers.size());
            for (FloatTensor t : layers) out.add(setup.codec().encode(t));
            return new Wire.HiddenStates(request.requestId(), (int) layers.get(0).dim(0), out);
        }));
    }

    @Funq("generate-event")
    public CloudEvent<Object> generateEvent(CloudEvent<Wire.EncodedAudio> event) {
        String extEnv = event.extensions() == null ? null : event.extensions().get(EventTypes.ENVIRONMENT);
        return events.event("generate", event, EventTypes.TEXT_GENERATED, (data, requestId) -> {
            Wire.EncodedAudio req = data == null ? null : data.forRequest(requestId, extEnv);
            Wire.TextGenerated out = stage.slots().run(() -> stage.get().generate(req, null));
            return new StageEvents.Out(out, out.environment());
        });
    }
}
