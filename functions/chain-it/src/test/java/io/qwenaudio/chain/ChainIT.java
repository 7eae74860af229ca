package io.qwenaudio.chain;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.audio.SampleAudio;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged stage apps as separate processes, wired only by CloudEvents: {@link LocalBroker} routes each event
 * by the Triggers of {@code infra/knative/base} to the process standing for the Trigger's Service, and each reply
 * back into the broker, until a terminal event reaches the result Service. Checks that the chain gives exactly
 * what the stages give in one JVM, that a crashed stage is redelivered to and answers once, that bad audio ends in
 * one {@code pipeline.failed}, and that embedding requests take their own route; prints cold starts, memory, hop
 * latencies and the chain's overhead over in-process compute.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChainIT {

    private static final String ENCODE = "encode-function";
    private static final String ADAPT = "adapt-function";
    private static final String GENERATE = "generate-function";
    private static final String RESULTS = "pipeline-results";
    private static final String SOURCE = "qwen-audio/chain-it";
    /** The PersistentVolumeClaims of the manifests: the converted model and the shared claim-check store. */
    private static final String MODELS_CLAIM = "qwen-audio-models";
    private static final String BLOBS_CLAIM = "qwen-audio-blobs";
    private static final Wire.GenerateParams GENERATE_PARAMS = new Wire.GenerateParams("What does the person say?", null,
            null, 8, true, null, null, null, null, 1L, null);

    /** Runs of the speech request before the timed ones, and timed runs (medians are reported). */
    private static final int WARMUP_RUNS = 2;
    private static final int TIMED_RUNS = 5;

    /**
     * Factor on the manifests' backoff delays. The adapt Trigger's retries (3 from 1 s, exponential: 2 + 4 + 8 s on
     * the Kafka Broker) must outlast a restart of the adapt process in the crash test, so the default keeps the
     * manifests' timing.
     */
    private static final double BACKOFF_SCALE = Double.parseDouble(System.getProperty("chain.backoff-scale", "1.0"));

    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final TensorCodec codec = new TensorCodec(null, Long.MAX_VALUE, false);
    private final Map<String, StageProcess> stages = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> serviceEnv = new LinkedHashMap<>();
    private final Map<String, String> startFigures = new LinkedHashMap<>();
    private final List<String> report = new ArrayList<>();
    private KnativeRoutes routes;
    private LocalBroker broker;
    private InProcessChain local;
    private byte[] speech;
    private Path blobDir;
    /** The adapt delivery of the first speech request, answered by the adapt process before it is killed. */
    private LocalBroker.Hop adaptedBeforeCrash;

    @BeforeAll
    void startStages() throws Exception {
        speech = TinyModel.speechWav("The quick brown fox jumps over the lazy dog.");
        TinyModel model = TinyModel.get();
        Path work = Path.of(System.getProperty("chain.work.dir", "target/chain")).toAbsolutePath();
        blobDir = Files.createDirectories(work.resolve("blobs"));
        try (var old = Files.list(blobDir)) {
            for (Path f : old.toList()) Files.delete(f);
        }
        KnativeManifests manifests = KnativeManifests.read(
                Path.of(System.getProperty("chain.knative.dir", "../../infra/knative/base")));
        routes = KnativeRoutes.of(manifests.resources);
        // Each process gets its Service's container env, the volumes' mount paths moved to local directories.
        Map<String, Path> claims = Map.of(MODELS_CLAIM, model.artifacts, BLOBS_CLAIM, blobDir);
        for (String service : List.of(ENCODE, ADAPT, GENERATE)) {
            Map<String, String> env = manifests.containerEnv(service, claims);
            String artifacts = env.get("QWEN_AUDIO_ARTIFACTS_DIR");
            assertEquals(model.artifacts.toString(), artifacts, service + ": QWEN_AUDIO_ARTIFACTS_DIR does not lie on the "
                    + MODELS_CLAIM + " volume mount");
            stages.put(service, new StageProcess(service, jar(service), env, Map.of(), work));
            serviceEnv.put(service, env);
        }
        for (StageProcess p : stages.values()) {
            long ms = p.start(); // one at a time: each cold start is measured without the others competing
            startFigures.put(p.service, String.format(Locale.ROOT, "cold start to ready %5d ms, RSS when ready %6.1f MiB",
                    ms, p.rssMiB()));
        }
        Map<String, URI> services = new HashMap<>();
        stages.forEach((name, p) -> services.put(name, p.uri()));
        broker = new LocalBroker(routes, services, RESULTS, BACKOFF_SCALE);
        local = new InProcessChain(model.artifacts, adapterEnvironments(serviceEnv.get(ADAPT)));
    }

    @AfterAll
    void stopStages() throws Exception {
        StringBuilder s = new StringBuilder("\n==== chain of stage processes (Broker '" + (routes == null ? "?" : routes.broker)
                + "', Triggers of infra/knative/base, backoff x" + BACKOFF_SCALE + ") ====\n");
        for (StageProcess p : stages.values()) {
            s.append(String.format(Locale.ROOT, "%-18s %s; RSS now %6.1f MiB, peak %6.1f MiB%n", p.service,
                    startFigures.getOrDefault(p.service, "not started"), p.alive() ? p.rssMiB() : -1, p.alive() ? p.peakRssMiB() : -1));
        }
        serviceEnv.forEach((name, env) -> s.append(String.format(Locale.ROOT, "%-18s env from its Service: %s%n", name, env)));
        report.forEach(line -> s.append(line).append('\n'));
        System.out.println(s);
        for (StageProcess p : stages.values()) p.close();
        if (local != null) local.close();
    }

    @Test
    @Order(1)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void speechTravelsTheTriggersToOneTextGenerated() throws Exception {
        Wire.EncodeRequest request = new Wire.EncodeRequest(b64(speech), null, TinyModel.LDV, null, GENERATE_PARAMS);
        String id = "chain-speech";
        LocalBroker.Trace trace = broker.publish(audioReceived(request, id));

        assertEquals(List.of("encode:" + ENCODE, "adapt:" + ADAPT, "generate:" + GENERATE),
                trace.hops().stream().map(h -> h.trigger() + ":" + h.service()).toList(), "route taken");
        for (LocalBroker.Hop h : trace.hops()) {
            assertEquals(1, h.attempts().size(), h.trigger() + " needed retries: " + h.attempts());
            assertFalse(h.deadLettered(), h.trigger() + " was dead-lettered: " + h.attempts());
        }
        assertEquals(List.of(EventTypes.AUDIO_ENCODED, EventTypes.AUDIO_ADAPTED, EventTypes.TEXT_GENERATED),
                trace.hops().stream().map(h -> h.reply().type()).toList(), "reply types");
        adaptedBeforeCrash = trace.hops().get(1);
        Event result = single(trace.results(), id);
        assertEquals(EventTypes.TEXT_GENERATED, result.type(), "terminal event: " + result.dataText());
        Wire.TextGenerated text = json.readValue(result.data(), Wire.TextGenerated.class);

        InProcessChain.Run expected = local.run(request, id);
        float[] encodedChain = hidden(trace.hops().get(0).reply());
        float[] adaptedChain = hidden(trace.hops().get(1).reply());
        double encodedDiff = Parity.relError(codec.decode(expected.encoded().hidden(), "hidden", -1, -1).data(), encodedChain);
        double adaptedDiff = Parity.relError(codec.decode(expected.adapted().hidden(), "hidden", -1, -1).data(), adaptedChain);
        assertTrue(encodedDiff < 1e-5, "audio.encoded hidden states differ from in-process encode: rel " + encodedDiff);
        assertTrue(adaptedDiff < 1e-5, "audio.adapted hidden states differ from in-process adapt: rel " + adaptedDiff);
        assertEquals(expected.text().tokenIds(), text.tokenIds(), "token ids of the chain vs in-process");
        assertEquals(expected.text().text(), text.text());
        assertEquals(expected.text().finishReason(), text.finishReason());
        assertEquals(expected.text().usage(), text.usage());
        assertEquals(id, text.requestId());
        assertEquals(TinyModel.LDV, text.environment());
        assertNotNull(text.adapter(), "adapter stats of the ldv adapter are carried to text.generated");
        assertEquals(TinyModel.LDV, text.adapter().environment());

        // warm: the same request again, through the chain and in process; medians of the timed runs
        List<Long> chainMs = new ArrayList<>();
        List<Double> localMs = new ArrayList<>();
        LocalBroker.Trace warm = null;
        for (int i = 0; i < WARMUP_RUNS + TIMED_RUNS; i++) {
            String runId = "chain-speech-warm-" + i;
            warm = broker.publish(audioReceived(request, runId));
            Wire.TextGenerated warmText = json.readValue(single(warm.results(), runId).data(), Wire.TextGenerated.class);
            assertEquals(expected.text().tokenIds(), warmText.tokenIds(), "token ids of warm run " + i);
            InProcessChain.Run inProcess = local.run(request, runId);
            assertEquals(expected.text().tokenIds(), inProcess.text().tokenIds());
            if (i >= WARMUP_RUNS) {
                chainMs.add(warm.millis());
                localMs.add(inProcess.millis());
            }
        }
        double chain = median(chainMs.stream().map(Long::doubleValue).toList());
        double inProcess = median(localMs);

        report.add(String.format(Locale.ROOT, "speech %.2f s, environment ldv, greedy, %d new tokens: %s -> \"%s\" (%s)",
                expected.encoded().durationSeconds(), text.tokenIds().size(),
                text.tokenIds(), text.text().replace("\n", "\\n"), text.finishReason()));
        report.add(String.format(Locale.ROOT, "token ids identical to in-process; hidden states rel diff: encoded %.1e, adapted %.1e",
                encodedDiff, adaptedDiff));
        hopReport("first request", trace);
        hopReport("warm request ", warm);
        report.add(String.format(Locale.ROOT, "chain total: first %d ms, warm median %.0f ms (%d runs) vs in-process median "
                        + "%.1f ms: chain overhead %.0f%% (%.0f ms)", trace.millis(), chain, TIMED_RUNS, inProcess,
                100.0 * (chain - inProcess) / inProcess, chain - inProcess));
    }

    @Test
    @Order(2)
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void adaptCrashIsRedeliveredAndAnsweredOnce() throws Exception {
        StageProcess adapt = stages.get(ADAPT);
        Wire.EncodeRequest request = new Wire.EncodeRequest(b64(speech), null, TinyModel.LDV, null, GENERATE_PARAMS);
        String id = "chain-crash";
        AtomicReference<CompletableFuture<Long>> restart = new AtomicReference<>();
        long[] killedAt = new long[1];
        LocalBroker.Trace trace = broker.publish(audioReceived(request, id), (route, event) -> {
            if (route.service().equals(ADAPT) && restart.get() == null) {
                assertEquals(EventTypes.AUDIO_ENCODED, event.type());
                adapt.kill(); // the event sits in the broker between encode and adapt; its subscriber is gone
                killedAt[0] = System.nanoTime();
                restart.set(CompletableFuture.supplyAsync(adapt::start));
            }
        });
        long doneMs = (System.nanoTime() - killedAt[0]) / 1_000_000;
        assertNotNull(restart.get(), "the broker never delivered to " + ADAPT);
        long restartMs = restart.get().get(120, TimeUnit.SECONDS);

        LocalBroker.Hop adaptHop = trace.hops().stream().filter(h -> h.service().equals(ADAPT)).findFirst().orElseThrow();
        List<LocalBroker.Attempt> attempts = adaptHop.attempts();
        KnativeRoutes.Delivery delivery = routes.matching(adaptHop.in()).get(0).delivery();
        long windowMs = Math.round(delivery.window().toMillis() * BACKOFF_SCALE);
        assertFalse(adaptHop.deadLettered(), "dead-lettered after " + attempts + ": the adapt process took " + restartMs
                + " ms to be ready again, its Trigger retries for " + windowMs + " ms (" + delivery.retry() + " retries from "
                + delivery.backoffDelay() + ", " + delivery.backoffPolicy() + ", x" + BACKOFF_SCALE + ")");
        assertEquals(-1, attempts.get(0).status(), "the first delivery to the killed process fails: " + attempts);
        assertTrue(attempts.size() >= 2, "redelivered: " + attempts);
        assertTrue(attempts.get(attempts.size() - 1).ok(), "a redelivery reached the restarted process: " + attempts);

        Event result = single(trace.results(), id);
        assertEquals(EventTypes.TEXT_GENERATED, result.type(), "terminal event: " + result.dataText());
        Wire.TextGenerated text = json.readValue(result.data(), Wire.TextGenerated.class);
        assertEquals(local.run(request, id).text().tokenIds(), text.tokenIds(), "token ids after the crash vs in-process");

        // The broker delivers at least once: the same audio.encoded again (same ce-id) is answered from the
        // restarted process's reply cache, not recomputed, and its reply (same ce-id) is answered likewise by generate.
        double adaptOk = okCount(adapt, "adapt");
        double generateOk = okCount(stages.get(GENERATE), "generate");
        KnativeRoutes.Route adaptRoute = routes.matching(adaptHop.in()).get(0);
        LocalBroker.Hop again = broker.deliver(adaptRoute, adaptHop.in());
        LocalBroker.Hop third = broker.deliver(adaptRoute, adaptHop.in());
        for (LocalBroker.Hop h : List.of(again, third)) {
            assertEquals(1, h.attempts().size());
            assertEquals(adaptHop.reply().id(), h.reply().id(), "a redelivered audio.encoded gets the same reply id");
            assertEquals(adaptHop.reply().dataText(), h.reply().dataText(), "and the same reply body");
        }
        assertEquals(adaptOk, okCount(adapt, "adapt"), "the redeliveries were not computed again");
        LocalBroker.Trace duplicate = broker.publish(again.reply());
        Event duplicateResult = single(duplicate.results(), id);
        assertEquals(result.id(), duplicateResult.id(), "generate answers the duplicate audio.adapted with the same text.generated");
        assertEquals(result.dataText(), duplicateResult.dataText());
        assertEquals(generateOk, okCount(stages.get(GENERATE), "generate"), "generate did not compute the duplicate");
        // An event the killed process had answered, delivered again: the new process has no memory of it and computes
        // it again, but the reply has the same id (derived from the event id) and the same hidden states.
        String reused = "";
        if (adaptedBeforeCrash != null) {
            double before = okCount(adapt, "adapt");
            LocalBroker.Hop re = broker.deliver(adaptRoute, adaptedBeforeCrash.in());
            assertEquals(adaptedBeforeCrash.reply().id(), re.reply().id(), "reply id across the restart");
            assertEquals(json.readValue(adaptedBeforeCrash.reply().data(), Wire.EncodedAudio.class).hidden().npy(),
                    json.readValue(re.reply().data(), Wire.EncodedAudio.class).hidden().npy(), "hidden states across the restart");
            assertEquals(before + 1, okCount(adapt, "adapt"), "the restarted process computed it once more");
            reused = "; an audio.encoded answered before the crash, redelivered: recomputed by the new process, same reply id "
                    + re.reply().id() + " and hidden states";
        }
        List<Event> all = broker.results().stream().filter(e -> id.equals(e.correlationId())).toList();
        assertEquals(1, all.stream().map(Event::id).distinct().count(), "distinct events of the request at the sink: " + all);
        assertTrue(all.stream().allMatch(e -> e.type().equals(EventTypes.TEXT_GENERATED)), "no failure and no dead letter: " + all);

        List<String> statuses = attempts.stream().map(a -> a.status() == -1 ? "refused" : Integer.toString(a.status())).toList();
        report.add(String.format(Locale.ROOT, "adapt killed with audio.encoded in the broker: delivery attempts %s "
                        + "(retry window %d ms); adapt restarted (cold start %d ms), request done %d ms after the kill; one "
                        + "text.generated (id %s), same token ids; 2 more deliveries of the audio.encoded answered from the "
                        + "reply cache (adapt computations stay at %.0f), the duplicate audio.adapted likewise by generate",
                statuses, windowMs, restartMs, doneMs, result.id(), adaptOk) + reused);
    }

    @Test
    @Order(3)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void garbageAudioEndsInOnePipelineFailedFromEncode() throws Exception {
        byte[] garbage = "RIFF this is not a WAV, FLAC or MP3 file at all".repeat(40).getBytes(StandardCharsets.US_ASCII);
        Wire.EncodeRequest request = new Wire.EncodeRequest(b64(garbage), null, TinyModel.LDV, null, GENERATE_PARAMS);
        String id = "chain-garbage";
        LocalBroker.Trace trace = broker.publish(audioReceived(request, id));

        assertEquals(1, trace.hops().size(), "only encode is reached: " + trace.hops());
        LocalBroker.Hop hop = trace.hops().get(0);
        assertEquals(ENCODE, hop.service());
        assertEquals(1, hop.attempts().size(), "a request that cannot be served is not retried: " + hop.attempts());
        assertEquals(200, hop.attempts().get(0).status());
        Event result = single(trace.results(), id);
        assertEquals(EventTypes.PIPELINE_FAILED, result.type());
        Wire.Failure f = json.readValue(result.data(), Wire.Failure.class);
        assertEquals("encode", f.stage());
        assertEquals(422, f.status());
        assertEquals(id, f.requestId());
        assertEquals(1, broker.results().stream().filter(e -> id.equals(e.correlationId())).count());
        report.add(String.format(Locale.ROOT, "garbage audio: one pipeline.failed after %d ms (stage %s, status %d, %s: %s)",
                trace.millis(), f.stage(), f.status(), f.error(), f.message()));
    }

    @Test
    @Order(4)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void embeddingRequestTakesTheEmbedTrigger() throws Exception {
        Wire.EmbedRequest request = new Wire.EmbedRequest(b64(speech), null, "mean", true, null, null, null);
        String id = "chain-embedding";
        Event e = Event.create(EventTypes.EMBEDDING_REQUESTED, SOURCE, json.writeValueAsBytes(request), Map.of("correlationid", id));
        LocalBroker.Trace trace = broker.publish(e);

        assertEquals(List.of("embed:" + ENCODE), trace.hops().stream().map(h -> h.trigger() + ":" + h.service()).toList());
        Event result = single(trace.results(), id);
        assertEquals(EventTypes.EMBEDDING_CREATED, result.type(), "terminal event: " + result.dataText());
        Wire.EmbedResponse got = json.readValue(result.data(), Wire.EmbedResponse.class);
        Wire.EmbedResponse expected = local.embed(request, id);
        assertEquals(expected.dim(), got.dim());
        assertEquals(expected.tokens(), got.tokens());
        double diff = Parity.relError(expected.embedding(), got.embedding());
        assertTrue(diff < 1e-5, "embedding differs from in-process: rel " + diff);
        assertNull(got.hidden());
        report.add(String.format(Locale.ROOT, "embedding.requested -> %s -> embedding.created in %d ms: %d tokens pooled to [%d], "
                + "rel diff to in-process %.1e", trace.hops().get(0).service(), trace.millis(), got.tokens(), got.dim(), diff));
    }

    @Test
    @Order(5)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void environmentNonePassesThroughAndAnUnconfiguredOneFailsAtAdapt() throws Exception {
        Wire.EncodeRequest none = new Wire.EncodeRequest(b64(speech), null, "none", null, GENERATE_PARAMS);
        LocalBroker.Trace trace = broker.publish(audioReceived(none, "chain-env-none"));
        Wire.TextGenerated text = json.readValue(single(trace.results(), "chain-env-none").data(), Wire.TextGenerated.class);
        assertEquals(local.run(none, "chain-env-none").text().tokenIds(), text.tokenIds(), "none: token ids vs in-process");
        assertNull(text.adapter(), "no adapter for environment none");

        String unknown = "studio";
        assertFalse(adapterEnvironments(serviceEnv.get(ADAPT)).containsKey(unknown));
        Wire.EncodeRequest studio = new Wire.EncodeRequest(b64(speech), null, unknown, null, GENERATE_PARAMS);
        LocalBroker.Trace failed = broker.publish(audioReceived(studio, "chain-env-studio"));
        assertEquals(List.of(ENCODE, ADAPT), failed.hops().stream().map(LocalBroker.Hop::service).toList());
        Event result = single(failed.results(), "chain-env-studio");
        assertEquals(EventTypes.PIPELINE_FAILED, result.type());
        Wire.Failure f = json.readValue(result.data(), Wire.Failure.class);
        assertEquals("adapt", f.stage());
        assertEquals(422, f.status());
        assertEquals("unknown_environment", f.error());
        report.add("environment none -> pass-through, same token ids as in-process; environment '" + unknown
                + "' (no adapter in the adapt Service's env) -> one pipeline.failed from adapt, 422: " + f.message());
    }

    @Test
    @Order(6)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void longAudioTravelsByClaimCheckThroughTheSharedVolume() throws Exception {
        // 45 s: 1125 audio tokens x 64 floats = 288 KB of hidden states, over the Services' inline limit
        byte[] audio = SampleAudio.vibratoTone(16000, 45, 220);
        Wire.EncodeRequest request = new Wire.EncodeRequest(b64(audio), null, TinyModel.LDV, null, GENERATE_PARAMS);
        String id = "chain-claim-check";
        LocalBroker.Trace trace = broker.publish(audioReceived(request, id));
        Event result = single(trace.results(), id);
        assertEquals(EventTypes.TEXT_GENERATED, result.type(), "terminal event: " + result.dataText());
        Wire.EncodedAudio encoded = json.readValue(trace.hops().get(0).reply().data(), Wire.EncodedAudio.class);
        Wire.EncodedAudio adapted = json.readValue(trace.hops().get(1).reply().data(), Wire.EncodedAudio.class);
        assertNull(encoded.hidden().npy(), "audio.encoded carries the hidden states by reference");
        assertNotNull(encoded.hidden().ref());
        assertNotNull(adapted.hidden().ref(), "audio.adapted carries the hidden states by reference");
        Wire.TextGenerated text = json.readValue(result.data(), Wire.TextGenerated.class);
        InProcessChain.Run expected = local.run(request, id);
        assertEquals(expected.text().tokenIds(), text.tokenIds(), "token ids of the chain vs in-process");
        assertEquals(expected.text().usage(), text.usage());
        long blobs;
        try (var files = Files.list(blobDir)) {
            blobs = files.count();
        }
        report.add(String.format(Locale.ROOT, "45 s audio: hidden %s by reference (%s, %s), %d blob file(s) in the shared "
                        + "store, same token ids as in-process; chain %d ms vs in-process %.1f ms",
                Arrays.toString(encoded.hidden().shape()), encoded.hidden().ref(), adapted.hidden().ref(), blobs,
                trace.millis(), expected.millis()));
    }

    // ---- helpers ----

    private Event audioReceived(Wire.EncodeRequest request, String requestId) throws IOException {
        Map<String, String> ext = new LinkedHashMap<>();
        ext.put("correlationid", requestId);
        if (request.environment() != null) ext.put("environment", request.environment());
        return Event.create(EventTypes.AUDIO_RECEIVED, SOURCE, json.writeValueAsBytes(request), ext);
    }

    /** The one event of {@code requestId} among {@code events}. */
    private static Event single(List<Event> events, String requestId) {
        List<Event> mine = events.stream().filter(e -> requestId.equals(e.correlationId())).toList();
        assertEquals(1, mine.size(), "terminal events of " + requestId + ": " + mine);
        assertEquals(events.size(), mine.size(), "events of other requests: " + events);
        return mine.get(0);
    }

    private float[] hidden(Event e) throws IOException {
        return codec.decode(json.readValue(e.data(), Wire.EncodedAudio.class).hidden(), "hidden", -1, -1).data();
    }

    /** {@code qwen_audio_requests_total{stage=..., outcome="ok"}} of a stage process: requests it computed. */
    private static double okCount(StageProcess p, String stage) throws IOException, InterruptedException {
        for (String line : p.metrics().split("\n")) {
            if (line.startsWith("qwen_audio_requests_total{") && line.contains("stage=\"" + stage + "\"")
                    && line.contains("outcome=\"ok\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    /** Hop latencies (HTTP round trip) and, from the reply's timings, how much of each was the stage's compute. */
    private void hopReport(String label, LocalBroker.Trace trace) throws IOException {
        StringBuilder s = new StringBuilder(label + ": ");
        for (LocalBroker.Hop h : trace.hops()) {
            var t = json.readTree(h.reply().data()).path("timings");
            double compute = switch (h.service()) {
                case ENCODE -> t.path("decode_ms").asDouble() + t.path("features_ms").asDouble() + t.path("encode_ms").asDouble();
                case ADAPT -> t.path("adapt_ms").asDouble();
                case GENERATE -> t.path("project_ms").asDouble() + t.path("generate_ms").asDouble();
                default -> 0;
            };
            s.append(String.format(Locale.ROOT, "%s -> %s %d ms (compute %.1f) | ",
                    h.in().type().substring(EventTypes.PREFIX.length()), h.service(), h.millis(), compute));
        }
        s.append("total ").append(trace.millis()).append(" ms");
        report.add(s.toString());
    }

    private static double median(List<Double> values) {
        List<Double> v = values.stream().sorted().toList();
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** {@code QWEN_AUDIO_ADAPT_ENVIRONMENTS_LDV=adapters/ldv} -> {@code ldv -> adapters/ldv}. */
    private static Map<String, String> adapterEnvironments(Map<String, String> env) {
        String prefix = "QWEN_AUDIO_ADAPT_ENVIRONMENTS_";
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()).toLowerCase(Locale.ROOT), v);
        });
        return out;
    }

    private static Path jar(String service) {
        String stage = service.substring(0, service.indexOf('-'));
        return Path.of(System.getProperty("chain." + stage + ".jar",
                "../" + service + "/target/quarkus-app/quarkus-run.jar")).toAbsolutePath().normalize();
    }
}
