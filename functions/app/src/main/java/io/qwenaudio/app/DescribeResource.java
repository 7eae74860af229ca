package io.qwenaudio.app;

import io.qwenaudio.blobs.BlobStore;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.ServingSetup;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Base64;
import java.util.UUID;

/**
 * {@code POST /v1/audio/describe}: audio in, text out, through the whole chain on the in-process bus
 * ({@code audio.received -> encode -> adapt -> generate -> text.generated}). The body is the audio file itself
 * (WAV, FLAC or MP3; options as query parameters) or JSON {@code {"audio": "<base64>", "environment": ...,
 * "generate": {...}}}. {@code raw_prompt} (query parameter, or in {@code generate}) replaces the chat template, as
 * base checkpoints are prompted; special tokens are parsed there and only there.
 */
@Path("/v1/audio/describe")
public class DescribeResource {

    @Inject
    InProcessBus bus;

    @Inject
    ServingSetup setup;

    @POST
    @Blocking
    @Consumes({"audio/*", MediaType.APPLICATION_OCTET_STREAM})
    @Produces(MediaType.APPLICATION_JSON)
    public Response describeFile(byte[] audio, @QueryParam("prompt") String prompt, @QueryParam("system") String system,
                                 @QueryParam("environment") String environment,
                                 @QueryParam("max_new_tokens") Integer maxNewTokens, @QueryParam("greedy") Boolean greedy,
                                 @QueryParam("temperature") Double temperature, @QueryParam("top_k") Integer topK,
                                 @QueryParam("top_p") Double topP, @QueryParam("repetition_penalty") Double repetitionPenalty,
                                 @QueryParam("seed") Long seed, @QueryParam("raw_prompt") String rawPrompt) {
        Wire.GenerateParams p = new Wire.GenerateParams(prompt, system, null, maxNewTokens, greedy, temperature, topK, topP,
                repetitionPenalty, seed, null, rawPrompt);
        BlobStore store = setup.codec().store();
        if (store == null) {
            return describe(new Wire.EncodeRequest(Base64.getEncoder().encodeToString(audio), null, environment, null, p));
        }
        String ref = store.put(audio); // claim check: no base64 copy of the audio inside one process
        try {
            return describe(new Wire.EncodeRequest(null, ref, environment, null, p));
        } finally {
            store.delete(ref);
        }
    }

    @POST
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response describe(Wire.EncodeRequest request) {
        String id = request != null && request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
        Wire.EncodeRequest r = request == null ? null : new Wire.EncodeRequest(request.audio(), request.audioRef(),
                request.environment(), id, request.generate());
        try {
            CloudEvent<Object> out = bus.run(InProcessBus.event(EventTypes.AUDIO_RECEIVED, id,
                    r == null ? null : r.environment(), r));
            if (out.data() instanceof Wire.Failure f) return Errors.of(f, 0);
            return Response.ok(out.data()).header("x-request-id", id).build();
        } catch (RuntimeException e) {
            return Errors.of("describe", e, id);
        }
    }
}
