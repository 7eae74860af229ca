package io.qwenaudio.chain;

import io.qwenaudio.audio.SampleAudio;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.GraphBuilder;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.TensorPayload;
import io.qwenaudio.events.Wire;
import io.qwenaudio.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

import static io.qwenaudio.chain.StageChain.ADAPT;
import static io.qwenaudio.chain.StageChain.ENCODE;
import static io.qwenaudio.chain.StageChain.GENERATE;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Per-request overhead of the chain, embedded versus multi-process, against the model compute of the same
 * request. Embedded: the one-process app, {@code POST /v1/audio/describe} with the WAV as the body. Multi-process:
 * the encode, adapt and generate apps with their Knative Services' env, an {@code audio.received} CloudEvent
 * routed through {@link LocalBroker} by the Triggers. Gateway: the app in gateway mode in front of the same stage
 * processes, {@code POST /v1/audio/describe} as for the embedded app, through the manifests' RequestReply (the upload
 * by claim check, as it is over the inline limit). Same 30 s clip, environment {@code ldv}, greedy,
 * {@value #MAX_NEW_TOKENS} new tokens; the two modes alternate run by run so both see the same machine load.
 * Overhead = (end to end - sum of the stage timings in the answer) / sum of the stage timings, medians of the
 * timed runs. On the tiny test model and on the {@code mid} make-tiny preset (tiny audio encoder, 1024-wide
 * 8-layer decoder), whose cold starts are reported as well. Runs only with {@code -Dbench=true}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChainBenchmarkIT {

    private static final int MAX_NEW_TOKENS = 16;
    private static final int WARMUP = Integer.getInteger("bench.warmup", 5);
    private static final int RUNS = Integer.getInteger("bench.runs", 9);
    /** An inline limit under one window's hidden states, so they go through the shared blob directory. */
    private static final String CLAIM_CHECK_LIMIT = "16K";
    private static final String SOURCE = "qwen-audio/chain-benchmark";
    private static final Wire.GenerateParams PARAMS = new Wire.GenerateParams(null, null, null, MAX_NEW_TOKENS, true,
            null, null, null, null, 1L, null);

    private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final byte[] audio = SampleAudio.vibratoTone(16000, 30, 220);
    private final List<String> table = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    /** One request: end to end and the stage timings of its answer, in ms. */
    record Run(double endToEnd, Wire.Timings t, List<Integer> tokenIds, Wire.Usage usage) {
        double compute() {
            return nz(t.decodeMs()) + nz(t.featuresMs()) + nz(t.encodeMs()) + nz(t.adaptMs()) + nz(t.projectMs())
                    + nz(t.generateMs());
        }

        double overhead() {
            return endToEnd - compute();
        }
    }

    /** A multi-process run with what each hop cost around its stage compute. */
    record ChainRun(Run run, double eventBuildMs, Map<String, Double> hopMs, Map<String, Double> hopComputeMs,
                    Map<String, Integer> hopBytes) {
    }

    @AfterAll
    void print() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%n==== chain overhead, embedded vs multi-process "
                + "(30 s tone, ldv, greedy, %d new tokens, medians of %d runs after %d warm-up) ====%n", MAX_NEW_TOKENS,
                RUNS, WARMUP));
        s.append(String.format(Locale.ROOT, "%-6s %-14s %10s %12s %12s %10s%n", "model", "mode", "e2e ms", "compute ms",
                "overhead ms", "overhead"));
        s.append("(overhead ms: median over runs of end to end - stage compute; overhead: that over the median compute)\n");
        table.forEach(l -> s.append(l).append('\n'));
        notes.forEach(l -> s.append(l).append('\n'));
        System.out.println(s);
    }

    @Test
    @Order(1)
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void tinyModel() throws Exception {
        measure("tiny", TinyModel.get().artifacts);
    }

    @Test
    @Order(2)
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void midModel() throws Exception {
        Path root = StageChain.workDir("bench-mid-model");
        deleteTree(root);
        Path checkpoint = root.resolve("checkpoint");
        Path adapter = root.resolve("adapter-ldv");
        Path artifacts = root.resolve("artifacts");
        long t0 = System.nanoTime();
        var cfg = MakeTiny.write(checkpoint, new MakeTiny.Options(MakeTiny.preset("mid"), TinyModel.SEED, null, adapter));
        new Converter(null).convert(new Converter.Options(checkpoint, artifacts, GraphBuilder.WeightType.FLOAT32, List.of(),
                Map.of(TinyModel.LDV, adapter)));
        notes.add(String.format(Locale.ROOT, "mid model: audio d_model %d x %d layers, decoder hidden %d x %d layers "
                        + "(vocab %d), float32; made and converted in %.1f s",
                cfg.audio().dModel(), cfg.audio().encoderLayers(), cfg.text().hiddenSize(), cfg.text().numHiddenLayers(),
                cfg.text().vocabSize(), (System.nanoTime() - t0) / 1e9));
        measure("mid", artifacts);
    }

    private void measure(String model, Path artifacts) throws Exception {
        Path work = StageChain.workDir("bench-" + model);
        Map<String, Double> rss = new LinkedHashMap<>();
        try (StageChain chain = new StageChain(artifacts, work, Map.of());
             StageChain claimChain = new StageChain(artifacts, StageChain.workDir("bench-" + model + "-claim-check"),
                     Map.of("qwen-audio.payload.inline-limit", CLAIM_CHECK_LIMIT));
             StageProcess app = StageChain.app(artifacts, work, Map.of())) {
            long appCold = app.start();
            LocalBroker broker = chain.broker(1.0, 1.0);
            LocalBroker claimBroker = claimChain.broker(1.0, 1.0);
            StageProcess gateway = chain.gateway(broker, work);
            long gatewayCold = gateway.start();
            URI describe = app.uri().resolve("/v1/audio/describe?environment=" + TinyModel.LDV + "&max_new_tokens="
                    + MAX_NEW_TOKENS + "&greedy=true&seed=1");
            List<Run> embedded = new ArrayList<>();
            List<ChainRun> multi = new ArrayList<>();
            List<ChainRun> claim = new ArrayList<>();
            List<Run> viaGateway = new ArrayList<>();
            URI gatewayDescribe = gateway.uri().resolve(describe.getPath() + "?" + describe.getQuery());
            for (int i = 0; i < WARMUP + RUNS; i++) {
                Run e = embedded(describe);
                Run g = embedded(gatewayDescribe);
                assertEquals(e.tokenIds(), g.tokenIds(), "token ids, embedded vs through the gateway, run " + i);
                ChainRun m = multiProcess(broker, model + "-" + i, false);
                ChainRun c = multiProcess(claimBroker, model + "-claim-" + i, true);
                assertEquals(e.tokenIds(), m.run().tokenIds(), "token ids, embedded vs multi-process, run " + i);
                assertEquals(e.tokenIds(), c.run().tokenIds(), "token ids, embedded vs claim check, run " + i);
                if (i >= WARMUP) {
                    embedded.add(e);
                    multi.add(m);
                    claim.add(c);
                    viaGateway.add(g);
                }
            }
            chain.stages.forEach((name, p) -> rss.put(name, p.rssMiB()));
            rss.put("app", app.rssMiB());
            rss.put("gateway", gateway.rssMiB());
            gateway.close();
            broker.close();
            claimBroker.close();

            row(model, "embedded", embedded);
            row(model, "multi-process", multi.stream().map(ChainRun::run).toList());
            row(model, "multi, by ref", claim.stream().map(ChainRun::run).toList());
            row(model, "gateway", viaGateway);
            notes.add(String.format(Locale.ROOT, "%s: %d prompt + %d new tokens; compute (median) %s", model,
                    multi.get(0).run().usage().promptTokens(), multi.get(0).run().usage().completionTokens(),
                    timingsLine(multi.stream().map(ChainRun::run).toList())));
            notes.add(whereTheOverheadGoes(model + " multi-process (inline)", multi));
            notes.add(whereTheOverheadGoes(model + " multi-process (claim check, inline-limit " + CLAIM_CHECK_LIMIT + ")",
                    claim));
            notes.add(String.format(Locale.ROOT, "%s cold start to ready (one at a time): encode %d ms, adapt %d ms, "
                            + "generate %d ms, app %d ms, gateway %d ms; RSS after the runs %s MiB", model,
                    chain.coldStartMillis.get(ENCODE), chain.coldStartMillis.get(ADAPT), chain.coldStartMillis.get(GENERATE),
                    appCold, gatewayCold, rss.entrySet().stream()
                            .map(x -> x.getKey() + " " + Math.round(x.getValue())).toList()));
        }
    }

    private static String whereTheOverheadGoes(String label, List<ChainRun> runs) {
        StringBuilder s = new StringBuilder(label + ", where the overhead goes (medians): client builds the "
                + "audio.received event (base64 + JSON) " + f(median(runs, ChainRun::eventBuildMs)) + " ms");
        for (String service : List.of(ENCODE, ADAPT, GENERATE)) {
            double hop = median(runs, r -> r.hopMs().get(service));
            double compute = median(runs, r -> r.hopComputeMs().get(service));
            s.append(String.format(Locale.ROOT, "; -> %s HTTP %s ms of which compute %s, rest %s (event %d KB)",
                    service, f(hop), f(compute), f(hop - compute), runs.get(0).hopBytes().get(service) / 1024));
        }
        double inHops = median(runs, r -> r.hopMs().values().stream().mapToDouble(Double::doubleValue).sum());
        double e2e = median(runs, r -> r.run().endToEnd());
        s.append(String.format(Locale.ROOT, "; broker outside the hops (routing, parsing replies) %s ms",
                f(e2e - inHops - median(runs, ChainRun::eventBuildMs))));
        return s.toString();
    }

    private Run embedded(URI describe) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(describe).timeout(Duration.ofMinutes(5)).header("Content-Type", "audio/wav")
                .POST(HttpRequest.BodyPublishers.ofByteArray(audio)).build();
        long t0 = System.nanoTime();
        HttpResponse<byte[]> resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
        double ms = (System.nanoTime() - t0) / 1e6;
        assertEquals(200, resp.statusCode(), () -> new String(resp.body()));
        Wire.TextGenerated text = json.readValue(resp.body(), Wire.TextGenerated.class);
        return new Run(ms, text.timings(), text.tokenIds(), text.usage());
    }

    /** @param byReference the hidden states must travel by claim check (else inline) */
    private ChainRun multiProcess(LocalBroker broker, String id, boolean byReference) throws IOException {
        long t0 = System.nanoTime();
        Wire.EncodeRequest request = new Wire.EncodeRequest(Base64.getEncoder().encodeToString(audio), null, TinyModel.LDV,
                null, PARAMS);
        Event event = Event.create(EventTypes.AUDIO_RECEIVED, SOURCE, json.writeValueAsBytes(request),
                Map.of("correlationid", id, "environment", TinyModel.LDV));
        double buildMs = (System.nanoTime() - t0) / 1e6;
        LocalBroker.Trace trace = broker.publish(event);
        double ms = (System.nanoTime() - t0) / 1e6;
        List<Event> results = trace.results();
        assertEquals(1, results.size(), "results: " + results);
        assertEquals(EventTypes.TEXT_GENERATED, results.get(0).type(), results.get(0).dataText());
        Wire.TextGenerated text = json.readValue(results.get(0).data(), Wire.TextGenerated.class);
        Map<String, Double> hopMs = new LinkedHashMap<>();
        Map<String, Double> hopCompute = new LinkedHashMap<>();
        Map<String, Integer> hopBytes = new LinkedHashMap<>();
        for (LocalBroker.Hop h : trace.hops()) {
            assertEquals(1, h.attempts().size(), h.trigger() + ": " + h.attempts());
            Wire.Timings t = json.readValue(h.reply().data(), TimingsOnly.class).timings();
            double compute = switch (h.service()) {
                case ENCODE -> nz(t.decodeMs()) + nz(t.featuresMs()) + nz(t.encodeMs());
                case ADAPT -> nz(t.adaptMs());
                case GENERATE -> nz(t.projectMs()) + nz(t.generateMs());
                default -> 0;
            };
            hopMs.put(h.service(), (double) h.millis());
            hopCompute.put(h.service(), compute);
            hopBytes.put(h.service(), h.in().data().length);
            if (!h.service().equals(GENERATE)) {
                TensorPayload hidden = json.readValue(h.reply().data(), Wire.EncodedAudio.class).hidden();
                assertEquals(byReference, hidden.ref() != null, h.service() + " reply: hidden by reference? " + hidden.ref());
            }
        }
        return new ChainRun(new Run(ms, text.timings(), text.tokenIds(), text.usage()), buildMs, hopMs, hopCompute, hopBytes);
    }

    /** The {@code timings} of any stage reply. */
    record TimingsOnly(Wire.Timings timings) {
    }

    private void row(String model, String mode, List<Run> runs) {
        double e2e = median(runs, Run::endToEnd);
        double compute = median(runs, Run::compute);
        double overhead = median(runs, Run::overhead);
        table.add(String.format(Locale.ROOT, "%-6s %-14s %10s %12s %12s %9.1f%%", model, mode, f(e2e), f(compute), f(overhead),
                100 * overhead / compute));
    }

    private static String timingsLine(List<Run> runs) {
        return String.format(Locale.ROOT, "decode %s, features %s, encode %s, adapt %s, project %s, generate %s "
                        + "(prefill %s) ms", f(median(runs, r -> nz(r.t().decodeMs()))), f(median(runs, r -> nz(r.t().featuresMs()))),
                f(median(runs, r -> nz(r.t().encodeMs()))), f(median(runs, r -> nz(r.t().adaptMs()))),
                f(median(runs, r -> nz(r.t().projectMs()))), f(median(runs, r -> nz(r.t().generateMs()))),
                f(median(runs, r -> nz(r.t().prefillMs()))));
    }

    private static <T> double median(List<T> items, ToDoubleFunction<T> f) {
        double[] v = items.stream().mapToDouble(f).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static double nz(Double d) {
        return d == null ? 0 : d;
    }

    private static String f(double ms) {
        return String.format(Locale.ROOT, "%.1f", ms);
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }
}
