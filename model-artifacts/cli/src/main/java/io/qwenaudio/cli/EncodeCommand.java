package io.qwenaudio.cli;

import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.pipeline.AudioEncoder;
import io.qwenaudio.pipeline.ModelArtifacts;
import io.qwenaudio.pipeline.Projector;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.stages.AdaptStage;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio encode <artifacts-dir> <audio-file> --out <hidden.npy> [--environment NAME] [--projected]}:
 * the encode stage on ONNX Runtime, the same classes the functions use. Writes float32 {@code [N,d]} (the valid
 * audio tokens of every 30 s window, concatenated), after the domain adapter when one is chosen, or
 * {@code [N,H]} with {@code --projected}.
 */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "Encode an audio file with converted artifacts: hidden states [N,d] (or [N,H] with --projected).")
final class EncodeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "<artifacts-dir>", description = "Made by 'qwen-audio convert'.")
    Path artifacts;

    @Parameters(index = "1", paramLabel = "<audio-file>", description = "WAV, FLAC or MP3.")
    Path audio;

    @Option(names = "--out", required = true, paramLabel = "<hidden.npy>", description = "Output .npy, float32.")
    Path out;

    @Option(names = "--environment", paramLabel = "NAME",
            description = "Domain adapter to apply (as converted with --adapter NAME=...); 'none' for none.")
    String environment;

    @Option(names = "--projected", description = "Apply the multi-modal projector: [N,H] language-model embeddings.")
    boolean projected;

    @Option(names = "--execution-provider", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE}).")
    String executionProvider;

    @Option(names = "--no-verify", description = "Skip the sha256 check of the artifact files.")
    boolean noVerify;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CliFiles.requireDirectory(artifacts, "artifacts directory");
        CliFiles.requireReadable(audio, "audio file");
        RuntimeOptions opts = RuntimeOptions.defaults().withExecutionProvider(executionProvider)
                .withVerifyChecksums(!noVerify).withWarmup(false);
        try {
            opts.validate();
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        ModelArtifacts model = ModelArtifacts.open(artifacts, opts);
        int d = model.manifest().audio().dModel();
        long t0 = System.nanoTime();
        EncodeStage.Encoded e;
        // the stage classes the functions run
        try (EncodeStage encode = new EncodeStage(model.encoder(AudioEncoder.Batching.none(), null), null, AudioLimits.DEFAULT)) {
            e = encode.encodeAudio(Files.readAllBytes(audio));
        }
        FloatTensor x = e.hidden(); // [N, d]
        String adapterNote = "";
        if (environment != null && !environment.equals(AdaptStage.NONE)) {
            try (AdaptStage adapt = new AdaptStage(Map.of(environment, model.adapter(environment)), null, d)) {
                AdaptStage.Adapted r = adapt.adapt(environment, x);
                x = r.hidden(); // [N, d]
                adapterNote = String.format(Locale.ROOT, ", adapter %s: gate mean %.3f [%.3f, %.3f], |delta|/|x| %.4f",
                        environment, r.stats().gateMean(), r.stats().gateMin(), r.stats().gateMax(),
                        r.stats().relativeDeltaNorm());
            }
        }
        if (projected) {
            try (Projector p = model.projector()) {
                x = p.project(x); // [N, H]
            }
        }
        long t2 = System.nanoTime();
        Npy.write(out, x.data(), x.shape());
        spec.commandLine().getErr().printf(Locale.ROOT, "%s: %.2f s of audio -> %s on %s (features %.0f ms, model %.0f ms%s) -> %s%n",
                audio.getFileName(), e.features().durationSeconds(), x, model.provider(), e.decodeMs() + e.featuresMs(),
                (t2 - t0) / 1e6 - e.decodeMs() - e.featuresMs(),
                adapterNote, out);
        spec.commandLine().getErr().flush();
        return 0;
    }
}
