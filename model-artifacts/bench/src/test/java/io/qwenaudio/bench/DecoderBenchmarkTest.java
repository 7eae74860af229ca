package io.qwenaudio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.Dtype;
import io.qwenaudio.converter.GraphOps;
import io.qwenaudio.converter.GraphStats;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.projector.Projector;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static io.qwenaudio.bench.Bench.fmt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Decoder speed per op set and dtype on the CPU: the {@code mid} preset (hidden 1024, 8 layers, 8 heads of 128,
 * 103 M decoder parameters, seed 1) converted as standard fp32 (the baseline), fused fp32, fp16, int8 and int4,
 * prompted with a whole 30 s clip (750 audio rows + the chat template: 798 positions), greedy, 64 new tokens;
 * against a PyTorch eager implementation of the same decoder on the same checkpoint
 * ({@code src/test/python/torch_decoder.py}, Debian's {@code /usr/bin/python3} with {@code python3-torch} and
 * {@code libopenblas0-pthread}). Each configuration runs in its own process (its resident memory is its own), one
 * warm-up generation then {@code bench.reps} timed ones, every configuration once per round, round-robin, so a
 * busy machine slows all alike; the table gives medians over rounds and the median of the per-round ratios to
 * standard fp32. Also: decoder node counts as written and after ONNX Runtime's optimiser, the greedy ids' agreement
 * with the baseline, and each dtype's figure for the real 7B decoder on one H200 on paper ({@link GpuPaper}).
 *
 * <p>Runs only with {@code -Dbench=true}. Knobs: {@code bench.rounds} (default 5), {@code bench.reps} (default 1),
 * {@code bench.tokens} (default 64), {@code bench.threads} (intra-op threads of ONNX Runtime and torch, default:
 * available processors), {@code bench.torch=false} (no PyTorch peer), {@code bench.dir} (keep the checkpoint and
 * the converted artifacts there and reuse them on the next run), {@code bench.ioBinding} (on|off, default on).
 */
class DecoderBenchmarkTest {

    static final Path TORCH_SCRIPT = Path.of("src", "test", "python", "torch_decoder.py");
    static final String PYTHON = "/usr/bin/python3";
    static final long SEED = 1;

    /** A converted decoder and how its KV cache is kept ({@code sharedKv}: one full-length buffer bound as past and present). */
    record Variant(String name, GraphOps ops, Dtype dtype, boolean sharedKv) {
        String dir() {
            return "art-" + ops.label() + "-" + dtype.label();
        }

        String dtypeLabel() {
            return dtype.label();
        }
    }

    static final List<Variant> VARIANTS = List.of(
            new Variant("standard fp32", GraphOps.STANDARD, Dtype.FP32, false),
            new Variant("fused fp32", GraphOps.FUSED, Dtype.FP32, true),
            new Variant("fused fp32, new present", GraphOps.FUSED, Dtype.FP32, false),
            new Variant("fused fp16", GraphOps.FUSED, Dtype.FP16, true),
            new Variant("fused int8", GraphOps.FUSED, Dtype.INT8, true),
            new Variant("fused int4", GraphOps.FUSED, Dtype.INT4, true),
            new Variant("fused int4, new present", GraphOps.FUSED, Dtype.INT4, false));
    static final String TORCH = "PyTorch eager fp32";

    @Test
    void decoderSpeedPerOpSetAndDtype(@TempDir Path tmp) throws Exception {
        assumeTrue(Boolean.getBoolean("bench"), "decoder benchmark: run with -Dbench=true");
        int rounds = Integer.getInteger("bench.rounds", 5), reps = Integer.getInteger("bench.reps", 1);
        int tokens = Integer.getInteger("bench.tokens", 64);
        int threads = Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors());
        boolean torch = !"false".equals(System.getProperty("bench.torch"));
        String io = System.getProperty("bench.ioBinding", "on");
        Path dir = System.getProperty("bench.dir") == null ? tmp : Files.createDirectories(Path.of(System.getProperty("bench.dir")));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        if (torch) checkTorch(logs);

        Path ck = dir.resolve("ck-mid");
        if (!Files.exists(ck.resolve("config.json"))) {
            MakeTiny.write(ck, new MakeTiny.Options(MakeTiny.MID, SEED, null, null));
        }
        for (Variant v : VARIANTS) {
            Path art = dir.resolve(v.dir());
            if (Files.exists(art.resolve("manifest.json"))) continue;  // converted before, or by an earlier variant
            long t0 = System.nanoTime();
            new Converter(null).convert(new Converter.Options(ck, art, v.dtype(), v.ops(), List.of(), Map.of()));
            System.out.printf("converted %s in %.1f s%n", v.name(), (System.nanoTime() - t0) / 1e9);
        }
        Path audioNpy = dir.resolve("audio-30s.npy");
        FloatTensor audio = audioRows(dir.resolve(VARIANTS.get(1).dir()), dir);                 // [750, H]
        Npy.write(audioNpy, audio.data(), audio.dim(0), audio.dim(1));

        Map<String, GraphStats.Counts[]> nodes = new LinkedHashMap<>();
        for (Variant v : VARIANTS) {
            if (!v.sharedKv() && v.ops() == GraphOps.FUSED) continue;   // same graph as the shared row
            Path onnx = dir.resolve(v.dir()).resolve("decoder.onnx");
            nodes.put(v.name(), new GraphStats.Counts[] {GraphStats.written(onnx), GraphStats.optimized(onnx, dir.resolve("opt"))});
            System.out.printf("%s decoder: %d nodes written, %d after ONNX Runtime's optimiser: %s%n", v.name(),
                    nodes.get(v.name())[0].nodes(), nodes.get(v.name())[1].nodes(), nodes.get(v.name())[1].ops());
        }

        Map<String, List<JsonNode>> runs = new LinkedHashMap<>();
        Path promptNpz = dir.resolve("prompt.npz");
        for (int r = 0; r < rounds; r++) {
            for (Variant v : VARIANTS) {
                JsonNode res = Bench.java(logs.resolve(v.dir() + (v.sharedKv() ? "" : "-new") + "-" + r + ".log"),
                        DecoderRun.class, dir.resolve(v.dir()).toString(), audioNpy.toString(), String.valueOf(tokens),
                        String.valueOf(reps), String.valueOf(threads), io, v.sharedKv() ? "shared" : "new");
                runs.computeIfAbsent(v.name(), k -> new ArrayList<>()).add(res);
                System.out.printf("round %d %-14s prompt %d: prefill %7.1f ms, decode %6.1f tok/s, RSS %.0f MiB%n", r + 1,
                        v.name(), res.get("prompt").asInt(), res.get("prefill_ms").asDouble(), res.get("decode_tps").asDouble(),
                        res.get("rss_mib").asDouble());
                if (r == 0 && v == VARIANTS.get(0)) writePrompt(promptNpz, res, audio);
            }
            if (torch) {
                JsonNode res = Bench.process(logs.resolve("torch-" + r + ".log"), List.of(PYTHON, TORCH_SCRIPT.toString(),
                        ck.toString(), promptNpz.toString(), "--tokens", String.valueOf(tokens), "--reps", String.valueOf(reps),
                        "--threads", String.valueOf(threads)));
                runs.computeIfAbsent(TORCH, k -> new ArrayList<>()).add(res);
                System.out.printf("round %d %-14s prompt %d: prefill %7.1f ms, decode %6.1f tok/s, RSS %.0f MiB%n", r + 1,
                        TORCH, res.get("prompt").asInt(), res.get("prefill_ms").asDouble(), res.get("decode_tps").asDouble(),
                        res.get("rss_mib").asDouble());
            }
        }
        System.out.println();
        System.out.print(report(runs, nodes, rounds, threads, tokens));

        JsonNode base = runs.get(VARIANTS.get(0).name()).getFirst();
        assertEquals(tokens, base.get("ids").size(), "the baseline generated fewer tokens than asked");
        assertArrayEquals(ids(base), ids(runs.get("fused fp32").getFirst()), "fused fp32 greedy ids differ from standard fp32");
        if (torch) {
            int same = agree(ids(base), ids(runs.get(TORCH).getFirst()));
            assertTrue(same >= tokens / 2, "PyTorch eager agrees with ONNX Runtime on only " + same + " leading ids: not the same model");
        }
    }

    /** Fails with what to install when Debian's python3 has no torch or runs it on the reference BLAS. */
    static void checkTorch(Path logs) throws Exception {
        String install = "the PyTorch peer needs Debian's packages: apt-get install python3-torch libopenblas0-pthread "
                + "(run as " + PYTHON + "); or run the benchmark without it: -Dbench.torch=false";
        if (!Files.isExecutable(Path.of(PYTHON))) throw new AssertionError(PYTHON + " not found; " + install);
        Path log = logs.resolve("torch-check.log");
        Process p = new ProcessBuilder(PYTHON, TORCH_SCRIPT.toString(), "--check").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (p.waitFor() != 0) throw new AssertionError(Files.readString(log).strip() + "\n" + install);
        System.out.println("PyTorch peer: " + Files.readString(log).strip());
    }

    /** The 30 s clip's projected audio rows [750, H] through the encoder and projector of {@code art}. */
    static FloatTensor audioRows(Path art, Path dir) throws Exception {
        Path wav = Files.write(dir.resolve("clip-30s.wav"), SampleAudio.voicedGlide(16_000, 30.0, 2));
        ModelArtifacts m = ModelArtifacts.open(art, RuntimeOptions.defaults().withWarmup(false).withVerifyChecksums(false));
        try (AudioStream in = AudioDecoder.open(wav, AudioLimits.DEFAULT);
             AudioEncoder enc = m.encoder(AudioEncoder.Batching.none(), null); Projector p = m.projector()) {
            return p.project(enc.encode(FeatureExtractor.extract(in, AudioLimits.DEFAULT)));
        }
    }

    /** The prompt for the PyTorch peer: ids [S] int64, audio [N, H] float32, audio_start [1] int64, as one .npz. */
    static void writePrompt(Path npz, JsonNode run, FloatTensor audio) throws Exception {
        long[] ids = new long[run.get("prompt_ids").size()];
        for (int i = 0; i < ids.length; i++) ids[i] = run.get("prompt_ids").get(i).asLong();
        try (OutputStream os = Files.newOutputStream(npz); ZipOutputStream z = new ZipOutputStream(os)) {
            entry(z, "ids.npy", Npy.toBytes(ids, ids.length));
            entry(z, "audio.npy", Npy.toBytes(audio.data(), audio.dim(0), audio.dim(1)));
            entry(z, "audio_start.npy", Npy.toBytes(new long[] {run.get("audio_start").asLong()}, 1));
        }
    }

    private static void entry(ZipOutputStream z, String name, byte[] bytes) throws Exception {
        z.putNextEntry(new ZipEntry(name));
        z.write(bytes);
        z.closeEntry();
    }

    static int[] ids(JsonNode run) {
        int[] a = new int[run.get("ids").size()];
        for (int i = 0; i < a.length; i++) a[i] = run.get("ids").get(i).asInt();
        return a;
    }

    /** Leading ids two greedy runs share. */
    static int agree(int[] a, int[] b) {
        int n = 0;
        while (n < Math.min(a.length, b.length) && a[n] == b[n]) n++;
        return n;
    }

    static String report(Map<String, List<JsonNode>> runs, Map<String, GraphStats.Counts[]> nodes, int rounds, int threads,
                         int tokens) {
        List<JsonNode> base = runs.get(VARIANTS.get(0).name());
        int prompt = base.getFirst().get("prompt").asInt();
        double meanContext = prompt + tokens / 2.0;
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"engine", "prefill ms", "vs std", "decode tok/s", "vs std", "RSS MiB", "nodes (ORT)",
                "same ids", "H200 7B decode on paper", "H200 7B prefill on paper"});
        for (Map.Entry<String, List<JsonNode>> e : runs.entrySet()) {
            List<JsonNode> rs = e.getValue();
            double[] pre = new double[rs.size()], dec = new double[rs.size()], preR = new double[rs.size()],
                    decR = new double[rs.size()], rss = new double[rs.size()];
            for (int i = 0; i < rs.size(); i++) {
                pre[i] = rs.get(i).get("prefill_ms").asDouble();
                dec[i] = rs.get(i).get("decode_tps").asDouble();
                preR[i] = base.get(i).get("prefill_ms").asDouble() / pre[i];          // > 1: faster than the baseline
                decR[i] = dec[i] / base.get(i).get("decode_tps").asDouble();
                rss[i] = rs.get(i).get("rss_mib").asDouble();
            }
            Variant v = VARIANTS.stream().filter(x -> x.name().equals(e.getKey())).findFirst().orElse(null);
            GraphStats.Counts[] n = v == null ? null : nodes.get(VARIANTS.stream()
                    .filter(x -> x.dir().equals(v.dir())).findFirst().orElseThrow().name());
            String dtype = v == null ? "fp16" : v.dtypeLabel();
            rows.add(new String[] {e.getKey(), fmt("%.0f", Bench.median(pre)), fmt("%.2fx", Bench.median(preR)),
                    fmt("%.1f", Bench.median(dec)), fmt("%.2fx", Bench.median(decR)), fmt("%.0f", Bench.median(rss)),
                    n == null ? "-" : n[0].nodes() + " (" + n[1].nodes() + ")",
                    agree(ids(base.getFirst()), ids(rs.getFirst())) + "/" + tokens,
                    (e.getKey().equals(TORCH) ? "bf16: " : "") + GpuPaper.decodeFormula(dtype, meanContext),
                    GpuPaper.prefillFormula(dtype, prompt)});
        }
        return fmt("mid preset, prompt %d positions (30 s clip), greedy, %d new tokens, %d threads, medians of %d rounds; "
                + "vs std = ratio to standard fp32 in the same round (prefill: time ratio, > 1 is faster); RSS = process "
                + "resident memory after generating; nodes = decoder graph as written (after ONNX Runtime's optimiser); "
                + "same ids = leading greedy ids equal to standard fp32's; fused rows keep the KV cache in one shared "
                + "full-length buffer unless marked 'new present' (a new present cache per run, the past copied into "
                + "it); on paper: Qwen2-7B decoder, mean context %.0f positions%n", prompt, tokens, threads, rounds, meanContext)
                + Bench.table(rows);
    }
}
