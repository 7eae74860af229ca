package io.qwenaudio.converter;

import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.MakeTiny;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The demo model the embedded app serves when no real model is configured: a tiny Qwen2-Audio checkpoint with
 * random weights ({@link MakeTiny}, real key names and layout) and one domain adapter ({@code ldv}), converted to
 * artifacts. Layout under {@code dir}: {@code checkpoint/}, {@code adapter-ldv/}, {@code artifacts/}. Its answers
 * are random text; it exists so that the whole chain can be run and looked at without the 16.8 GB model.
 */
public final class DemoModel {

    /** The directory the app looks in by default ({@code qwen-audio.demo.dir}). */
    public static final String DEFAULT_DIR = "qwen-audio-demo";
    /** Weight seed: with it, greedy output of short prompts stays inside the tiny tokenizer's vocabulary. */
    public static final long SEED = 11;

    private DemoModel() {
    }

    /** The artifacts directory of the demo model in {@code dir}. */
    public static Path artifacts(Path dir) {
        return dir.resolve("artifacts");
    }

    /** True when {@code dir} already holds converted demo artifacts. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(artifacts(dir).resolve(Manifest.FILE));
    }

    /**
     * Makes and converts the demo model into {@code dir} (an existing one is replaced). Progress goes to
     * {@code progress} (may be null). Returns the artifacts directory.
     */
    public static Path make(Path dir, PrintStream progress) throws IOException {
        Path ck = dir.resolve("checkpoint");
        Path adapter = dir.resolve("adapter-" + MakeTiny.ADAPTER_ENVIRONMENT);
        Path artifacts = artifacts(dir);
        for (Path p : List.of(ck, adapter, artifacts)) Converter.deleteTree(p);
        MakeTiny.write(ck, MakeTiny.Options.tiny(SEED).withAdapter(adapter));
        new Converter(progress).convert(new Converter.Options(ck, artifacts, GraphBuilder.WeightType.FLOAT32, List.of(),
                Map.of(MakeTiny.ADAPTER_ENVIRONMENT, adapter)));
        return artifacts;
    }
}
