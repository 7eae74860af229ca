package io.qwenaudio.cli;

import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.projector.Projector;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
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

    @Mixin
    AudioModelOptions input;

    @Option(names = "--out", required = true, paramLabel = "<hidden.npy>", description = "Output .npy, float32.")
    Path out;

    @Option(names = "--projected", description = "Apply the multi-modal projector: [N,H] language-model embeddings.")
    boolean projected;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CliFiles.requireWritableFile(out, "--out");
        ModelArtifacts model = input.open();
        long t0 = System.nanoTime();
        AudioModelOptions.Audio a = input.encode(model);
        EncodeStage.Encoded e = a.encoded();
        FloatTensor x = a.hidden(); // [N, d]
        String adapterNote = a.adapter() == null ? "" : String.format(Locale.ROOT,
                ", adapter %s: gate mean %.3f [%.3f, %.3f], |delta|/|x| %.4f", a.adapter().environment(),
                a.adapter().gateMean(), a.adapter().gateMin(), a.adapter().gateMax(), a.adapter().relativeDeltaNorm());
        if (projected) {
            try (Projector p = model.projector()) {
                x = p.project(x); // [N, H]
            }
        }
        long t2 = System.nanoTime();
        Npy.write(out, x.data(), x.shape());
        spec.commandLine().getErr().printf(Locale.ROOT, "%s: %.2f s of audio -> %s on %s (features %.0f ms, model %.0f ms%s) -> %s%n",
                input.audio.getFileName(), e.features().durationSeconds(), x, model.provider(), e.decodeMs() + e.featuresMs(),
                (t2 - t0) / 1e6 - e.decodeMs() - e.featuresMs(),
                adapterNote, out);
        spec.commandLine().getErr().flush();
        return 0;
    }
}
