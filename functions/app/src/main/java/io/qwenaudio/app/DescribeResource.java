package io.qwenaudio.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.functions.generate.GenerateStageBean;
import io.qwenaudio.serving.ServingConfig;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.stages.ReplyCache;
import io.qwenaudio.stages.StageException;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.PostConstruct;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * {@code POST /v1/audio/describe}: audio in, text out, through the whole chain
 * ({@code audio.received -> encode -> adapt -> generate -> text.generated}) on the in-process bus, or through the
 * stage Services in gateway mode ({@link EventChain}). The body is the audio file itself
 * (WAV, FLAC or MP3; options as query parameters, {@link DescribeQuery}) or JSON {@code {"audio": "<base64>",
 * "environment": ..., "request_id": ..., "generate": {...}}}. {@code raw_prompt} (query parameter, or in
 * {@code generate}) replaces the chat template, as base checkpoints are prompted; special tokens are parsed there and
 * only there; it excludes {@code prompt} and {@code system}.
 *
 * <p>A {@code request_id} makes the request idempotent: the same id with the same audio, prompt and options is
 * answered with the first reply; the same id with anything different is refused with 409 naming {@code request_id}
 * (a fingerprint of the request is kept beside the reply), never answered with another request's result.
 */
@Path("/v1/audio/describe")
public class DescribeResource {

    @Inject
    EventChain chain;

    @Inject
    ServingConfig config;

    @Inject
    GenerateStageBean generate;

    @Inject
    ObjectMapper json;

    private ReplyCache<CloudEvent<Object>> replies;

    @PostConstruct
    void init() {
        ServingConfig.Events e = config.events();
        replies = new ReplyCache<>("request_id", e.dedupEntries(), e.dedupMaxBytes().asLongValue(), e.dedupTtl(),
                r -> 1024L + (r.data() instanceof Wire.TextGenerated t && t.text() != null ? 2L * t.text().length() : 0));
    }

    @POST
    @Blocking
    @Consumes({"audio/*", MediaType.APPLICATION_OCTET_STREAM})
    @Produces(MediaType.APPLICATION_JSON)
    public Response describeFile(byte[] audio, @Context UriInfo uri) {
        DescribeQuery q;
        try {
            q = DescribeQuery.parse(uri.getQueryParameters());
        } catch (RuntimeException e) {
            return Errors.of("describe", e, null);
        }
        if (audio == null || audio.length == 0) {
            return Errors.of("describe", StageException.emptyBody("the audio file (WAV, FLAC or MP3) as the body"), q.requestId());
        }
        String fingerprint = fingerprint(audio, null, q.environment(), q.generate());
        EventChain.AudioField a = chain.audio(audio);
        try {
            return describe(new Wire.EncodeRequest(a.base64(), a.ref(), q.environment(), q.requestId(), q.generate()), fingerprint);
        } finally {
            chain.release(a);
        }
    }

    @POST
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response describe(Wire.EncodeRequest request) {
        if (request == null) {
            return Errors.of("describe", StageException.emptyBody("{\"audio\": \"<base64 WAV/FLAC/MP3>\", \"generate\": {...}}"), null);
        }
        String audio = request.audio() != null ? request.audio() : request.audioRef();
        return describe(request, fingerprint(null, audio, request.environment(), request.generate()));
    }

    private Response describe(Wire.EncodeRequest request, String fingerprint) {
        String id = request.requestId() != null ? request.requestId() : UUID.randomUUID().toString();
        Wire.GenerateParams p = request.generate() != null ? request.generate() : GenerateStage.NO_OPTIONS;
        Wire.EncodeRequest r = new Wire.EncodeRequest(request.audio(), request.audioRef(), request.environment(), id, p);
        try {
            // options and prompt fields checked before any audio is decoded (a gateway has no model: the generate
            // stage checks the options against its model and answers with the same failure)
            if (!chain.gateway()) generate.get().options(p);
            GenerateStage.checkPromptFields(p);
            Supplier<CloudEvent<Object>> run = () -> chain.run(InProcessBus.event(EventTypes.AUDIO_RECEIVED, id,
                    r.environment(), r));
            CloudEvent<Object> out = request.requestId() == null ? run.get() : replies.computeOnce(id, fingerprint, run);
            if (out.data() instanceof Wire.Failure f) return Errors.of(f);
            return Response.ok(out.data()).header("x-request-id", id).build();
        } catch (RuntimeException | Error e) {
            return Errors.of(e instanceof StageException s && s.status() == 409 ? "describe" : "generate", e, id);
        }
    }

    /** SHA-256 of what a request asks for: the audio (bytes or base64 text), the environment and the options. */
    private String fingerprint(byte[] audioBytes, String audioText, String environment, Wire.GenerateParams p) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            if (audioBytes != null) d.update(audioBytes);
            if (audioText != null) d.update(audioText.getBytes(StandardCharsets.ISO_8859_1));
            d.update((byte) 0);
            d.update(String.valueOf(environment).getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(json.writeValueAsBytes(p == null ? GenerateStage.NO_OPTIONS : p));
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException | JsonProcessingException e) {
            throw new IllegalStateException("cannot fingerprint the request: " + e.getMessage(), e);
        }
    }
}
