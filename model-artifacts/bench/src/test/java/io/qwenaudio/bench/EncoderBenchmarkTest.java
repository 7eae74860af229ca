package io.qwenaudio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.Dtype;
import io.qwenaudio.converter.GraphOps;
import io.qwenaudio.converter.GraphStats;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.qwenaudio.bench.Bench.fmt;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Audio encoder speed per op set on the CPU: the real encoder size ({@code audio-full} preset: d_model 1280,
 * 32 layers, 20 heads, 637 M parameters, random weights) converted with {@code --graph-ops standard} and
 * {@code fused}, fp32, one full 30 s window at batch 1; each op set in its own process, round-robin over
 * {@code bench.encoder.rounds} rounds (default 3) of one warm-up and {@code bench.encoder.windows} (default 3) timed
 * windows; windows/s medians, the median per-round ratio, node counts as written and after ONNX Runtime's optimiser,
 * the two op sets' outputs compared, and the H200 figure on paper ({@link GpuPaper}).
 *
 * <p>Runs only with {@code -Dbench=true}; {@code bench.dir} and {@code bench.threads} as in {@link DecoderBenchmarkTest}.
 */
class EncoderBenchmarkTest {

    @Test
    void encoderWindowsPerSecondFusedVsStandard(@TempDir Path tmp) throws Exception {
        assumeTrue(Boolean.getBoolean("bench"), "encoder benchmark: run with -Dbench=true");
        int rounds = Integer.getInteger("bench.encoder.rounds", 3), windows = Integer.getInteger("bench.encoder.windows", 3);
        int threads = Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors());
        Path dir = System.getProperty("bench.dir") == null ? tmp : Files.createDirectories(Path.of(System.getProperty("bench.dir")));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Path ck = dir.resolve("ck-audio-full");
        if (!Files.exists(ck.resolve("config.json"))) {
            MakeTiny.write(ck, new MakeTiny.Options(MakeTiny.AUDIO_FULL, 3, null, null));
        }
        Map<GraphOps, GraphStats.Counts[]> nodes = new LinkedHashMap<>();
        for (GraphOps ops : GraphOps.values()) {
            Path art = dir.resolve("art-audio-full-" + ops.label());
            if (!Files.exists(art.resolve("manifest.json"))) {
                long t0 = System.nanoTime();
                new Converter(null).convert(new Converter.Options(ck, art, Dtype.FP32, ops, List.of(), Map.of()));
                System.out.printf("converted audio-full %s in %.1f s%n", ops.label(), (System.nanoTime() - t0) / 1e9);
            }
            Path onnx = art.resolve("audio_encoder.onnx");
            nodes.put(ops, new GraphStats.Counts[] {GraphStats.written(onnx), GraphStats.optimized(onnx, dir.resolve("opt"))});
            System.out.printf("audio encoder %s: %d nodes written, %d after ONNX Runtime's optimiser: %s%n", ops.label(),
                    nodes.get(ops)[0].nodes(), nodes.get(ops)[1].nodes(), nodes.get(ops)[1].ops());
        }
        Map<GraphOps, List<JsonNode>> runs = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            for (GraphOps ops : GraphOps.values()) {
                JsonNode res = Bench.java(logs.resolve("encoder-" + ops.label() + "-" + r + ".log"), EncoderRun.class,
                        dir.resolve("art-audio-full-" + ops.label()).toString(), String.valueOf(windows),
                        String.valueOf(threads), dir.resolve("encoder-" + ops.label() + ".npy").toString());
                runs.computeIfAbsent(ops, k -> new ArrayList<>()).add(res);
                System.out.printf("round %d encoder %-8s: %.3f windows/s (%.2f s/window), RSS %.0f MiB%n", r + 1, ops.label(),
                        res.get("windows_per_second").asDouble(), res.get("seconds_per_window").asDouble(), res.get("rss_mib").asDouble());
            }
        }
        float[] std = Npy.read(dir.resolve("encoder-standard.npy")).toFloats();
        float[] fused = Npy.read(dir.resolve("encoder-fused.npy")).toFloats();
        double err = Parity.relError(std, 0, fused, 0, std.length);

        double flops = GpuPaper.encoderFlops();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"audio encoder", "windows/s", "vs standard", "RSS MiB", "nodes (ORT)", "H200 on paper (fp32 graph, TF32)"});
        for (GraphOps ops : GraphOps.values()) {
            List<JsonNode> rs = runs.get(ops);
            double[] wps = new double[rs.size()], ratio = new double[rs.size()], rss = new double[rs.size()];
            for (int i = 0; i < rs.size(); i++) {
                wps[i] = rs.get(i).get("windows_per_second").asDouble();
                ratio[i] = wps[i] / runs.get(GraphOps.STANDARD).get(i).get("windows_per_second").asDouble();
                rss[i] = rs.get(i).get("rss_mib").asDouble();
            }
            double ms = flops / GpuPaper.H200_TF32_FLOPS * 1e3
                    + (ops == GraphOps.STANDARD ? GpuPaper.encoderScoreBytes() / GpuPaper.H200_BYTES_PER_S * 1e3 : 0);
            String paper = ops == GraphOps.STANDARD
                    ? fmt("%.2f TFLOP / 494 TFLOP/s + %.0f GB scores / 4.8 TB/s = %.1f ms -> %.0f windows/s", flops / 1e12,
                    GpuPaper.encoderScoreBytes() / 1e9, ms, 1e3 / ms)
                    : fmt("%.2f TFLOP / 494 TFLOP/s = %.1f ms -> %.0f windows/s", flops / 1e12, ms, 1e3 / ms);
            rows.add(new String[] {ops.label() + " fp32", fmt("%.3f", Bench.median(wps)), fmt("%.2fx", Bench.median(ratio)),
                    fmt("%.0f", Bench.median(rss)), nodes.get(ops)[0].nodes() + " (" + nodes.get(ops)[1].nodes() + ")", paper});
        }
        System.out.println();
        System.out.printf("audio-full encoder (d 1280, 32 layers), one full 30 s window at batch 1, %d threads, medians of %d "
                + "rounds x %d windows; fused vs standard hidden states: relative error %.2e%n", threads, rounds, windows, err);
        System.out.print(Bench.table(rows));
        assertTrue(err <= 1e-4, "fused and standard encoders differ: relative error " + err);
    }
}
