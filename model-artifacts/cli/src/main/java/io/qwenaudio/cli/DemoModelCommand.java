package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.converter.DemoModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio demo-model}: makes the tiny demo model the embedded app serves when no model is configured
 * (random weights, one domain adapter {@code ldv}) and a sample clip beside it. Does nothing when the model is
 * already there, so the README's run command can call it every time.
 */
@Command(name = "demo-model", mixinStandardHelpOptions = true,
        description = "Make the tiny demo model (random weights) that the embedded app serves when no model is configured.")
final class DemoModelCommand implements Callable<Integer> {

    @Option(names = "--dir", defaultValue = DemoModel.DEFAULT_DIR, paramLabel = "<dir>",
            description = "Where the checkpoint, the adapter and the artifacts are made; the app's qwen-audio.demo.dir "
                    + "(default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--force", description = "Make it again even if it exists.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UserInputException("--dir " + dir + " is a file, not a directory");
        }
        Path sample = dir.resolve("sample.wav");
        if (DemoModel.exists(dir) && !force) {
            System.err.println("demo model already in " + DemoModel.artifacts(dir) + " (--force makes it again)");
        } else {
            long t0 = System.nanoTime();
            System.err.println("making the tiny demo model (random weights: its answers are random text) in " + dir);
            DemoModel.make(dir, System.err);
            System.err.printf(Locale.ROOT, "demo model ready in %.1f s: %s (sample clip %s)%n",
                    (System.nanoTime() - t0) / 1e9, DemoModel.artifacts(dir), sample);
        }
        if (!Files.exists(sample)) Files.write(sample, SampleAudio.voicedGlide(16_000, 5.0, 1));
        System.out.println(DemoModel.artifacts(dir));
        return 0;
    }
}
