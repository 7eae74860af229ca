package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.bench.BenchReport;
import io.qwenaudio.bench.ServingBench;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.runtime.RuntimeOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio bench <artifacts-dir> [--execution-provider cpu|cuda] [--audio FILE] [--max-new-tokens N]
 * [--rounds R] [--json]}: the serving path's figures stage by stage ({@link ServingBench}); progress goes to stderr,
 * the figures to stdout.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure the serving path on converted artifacts: front-end ms per 30 s window, encoder windows/s "
                + "at batch 1 and the best batch, projector ms, time to first token for the clip, decode tokens/s at "
                + "batch 1, peak RSS and (CUDA) device memory; median/min/max over the rounds after one warm-up round."})
final class BenchCommand implements Callable<Integer> {

    static final int MAX_ROUNDS = 1000;
    static final int MAX_BATCH = 64;

    @Parameters(index = "0", paramLabel = "<artifacts-dir>", description = "Made by 'qwen-audio convert'.")
    Path artifacts;

    @Mixin
    RuntimeArgs runtime;

    @Option(names = "--audio", paramLabel = "FILE",
            description = "Clip to measure on (WAV, FLAC or MP3; default: a synthetic 30 s voiced clip).")
    Path audio;

    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N",
            description = "Tokens decoded per round, stop tokens ignored (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--rounds", defaultValue = "3", paramLabel = "R",
            description = "Timed rounds after one warm-up round (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--max-batch", defaultValue = "8", paramLabel = "B",
            description = "Largest encoder batch tried; batches 1, 2, 4, ... up to B (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--json", description = "Print the figures as one JSON object instead of a table.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || rounds > MAX_ROUNDS) {
            throw new UserInputException("--rounds " + rounds + " is out of range; give 1 to " + MAX_ROUNDS);
        }
        if (maxBatch < 1 || maxBatch > MAX_BATCH) {
            throw new UserInputException("--max-batch " + maxBatch + " is out of range; give 1 to " + MAX_BATCH);
        }
        if (maxNewTokens < 2) {
            throw new UserInputException("--max-new-tokens " + maxNewTokens + " is too small; give at least 2 (decode "
                    + "speed is measured on the tokens after the first)");
        }
        CliFiles.requireDirectory(artifacts, "artifacts directory");
        if (audio != null) CliFiles.requireReadable(audio, "--audio");
        RuntimeOptions opts = runtime.options();
        byte[] clip = audio != null ? Files.readAllBytes(audio) : SampleAudio.voicedGlide(16_000, 30, 1);
        float[] mono16k = ServingBench.decode(clip);
        PrintWriter err = spec.commandLine().getErr();
        ModelArtifacts model = ModelArtifacts.open(artifacts, opts);
        int context = model.manifest().text().maxPositionEmbeddings();
        if (maxNewTokens >= context) {
            throw new UserInputException("--max-new-tokens " + maxNewTokens + " does not fit in the model's context of "
                    + context + " positions, which also holds the prompt and the audio; give at most " + (context - 1));
        }
        BenchReport report = new ServingBench(model, mono16k, new ServingBench.Options(rounds, maxNewTokens, maxBatch),
                step -> {
                    err.println("bench: " + step);
                    err.flush();
                }).run();
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? report.toJson() + System.lineSeparator() : report.toText());
        out.flush();
        return 0;
    }
}
