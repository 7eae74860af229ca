package io.qwenaudio.app;

import io.qwenaudio.diagnostics.HeatMap;
import io.qwenaudio.diagnostics.Inspector;
import io.qwenaudio.diagnostics.Report;
import io.qwenaudio.diagnostics.Series;
import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.GenerateStage;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What the playground page draws:
 * <ul>
 *   <li>{@code POST /v1/audio/diagnostics}: the audio file as the body (WAV, FLAC or MP3), options as query
 *       parameters ({@code environment}, {@code prompt}, {@code system}, {@code raw_prompt} for the no-decode
 *       pass, {@code attention} and {@code hidden_states} to switch those panels off); answers a {@link Report}:
 *       log-mel per window, encoder map and token norms, the pooled embedding, the adapter's gate, relative change
 *       and attention maps, and the hidden-state norms of every layer, each averaged down on the server;</li>
 *   <li>{@code GET /v1/audio/environments}: the recording environments that have a domain adapter.</li>
 * </ul>
 * Errors are the {@link Wire.Failure} JSON of the other endpoints.
 */
@Path("/v1/audio")
@RegisterForReflection(targets = {Report.class, Report.Mel.class, Report.MelWindow.class, Report.Encoder.class,
        Report.Adapter.class, Report.Attention.class, Report.HiddenStates.class, Report.Timings.class, HeatMap.class,
        Series.class})
public class DiagnosticsResource {

    @Inject
    DiagnosticsBean diagnostics;

    @POST
    @Path("diagnostics")
    @Blocking
    @Consumes({"audio/*", MediaType.APPLICATION_OCTET_STREAM})
    @Produces(MediaType.APPLICATION_JSON)
    public Response diagnose(byte[] audio, @QueryParam("environment") String environment,
                             @QueryParam("prompt") String prompt, @QueryParam("system") String system,
                             @QueryParam("raw_prompt") String rawPrompt,
                             @QueryParam("attention") @DefaultValue("true") boolean attention,
                             @QueryParam("hidden_states") @DefaultValue("true") boolean hiddenStates) {
        String id = UUID.randomUUID().toString();
        if (!diagnostics.enabled()) {
            String why = diagnostics.gateway() ? "diagnostics run the model in this process, and a gateway "
                    + "(qwen-audio.mode=gateway) has none: use the one-process app for them" : "diagnostics are switched off "
                    + "(qwen-audio.diagnostics.enabled=false)";
            return Errors.of(new Wire.Failure("diagnostics", 404, "diagnostics_disabled", why, id, null), 0);
        }
        try {
            Wire.GenerateParams p = new Wire.GenerateParams(prompt, system, null, null, null, null, null, null, null, null,
                    null, rawPrompt);
            Report r = diagnostics.inspector().inspect(audio, new Inspector.Request(environment, p, attention, hiddenStates), id);
            return Response.ok(r).header("x-request-id", id).build();
        } catch (RuntimeException e) {
            return Errors.of("diagnostics", e, id);
        }
    }

    @GET
    @Path("environments")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> environments() {
        return Map.of("environments", List.copyOf(diagnostics.environments()), "diagnostics", diagnostics.enabled(),
                "default_prompt", GenerateStage.DEFAULT_PROMPT);
    }
}
