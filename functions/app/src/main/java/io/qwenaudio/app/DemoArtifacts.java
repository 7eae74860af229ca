package io.qwenaudio.app;

import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.GraphBuilder;
import io.qwenaudio.serving.ArtifactsFallback;
import jakarta.enterprise.context.ApplicationScoped;
import io.qwenaudio.serving.ServingConfig;
import jakarta.inject.Inject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The model the app serves when {@code qwen-audio.artifacts-dir} is not set: a tiny Qwen2-Audio checkpoint with
 * random weights and one domain adapter ({@code ldv}), made and converted into {@code qwen-audio.demo.dir} on
 * first start and reused afterwards. Its answers are random text; the log says how to serve a real model.
 */
@ApplicationScoped
public class DemoArtifacts implements ArtifactsFallback {

    private static final Logger LOG = Logger.getLogger(DemoArtifacts.class.getName());
    /** Weight seed of the demo checkpoint (its greedy output stays inside the tiny vocabulary). */
    static final long SEED = 11;

    @Inject
    ServingConfig config;

    private volatile boolean used;

    @Override
    public synchronized Path artifactsDir() {
        Path dir = config.demo().dir();
        Path artifacts = dir.resolve("artifacts");
        used = true;
        if (!Files.isRegularFile(artifacts.resolve(Manifest.FILE))) {
            long t0 = System.nanoTime();
            LOG.info("no model configured (qwen-audio.artifacts-dir): making the tiny demo checkpoint in " + dir.toAbsolutePath());
            try {
                Path ck = dir.resolve("checkpoint");
                Path adapter = dir.resolve("adapter-ldv");
                MakeTiny.write(ck, MakeTiny.Options.tiny(SEED).withAdapter(adapter));
                ByteArrayOutputStream progress = new ByteArrayOutputStream();
                new Converter(new PrintStream(progress, true, StandardCharsets.UTF_8)).convert(new Converter.Options(ck,
                        artifacts, GraphBuilder.WeightType.FLOAT32, List.of(), Map.of(MakeTiny.ADAPTER_ENVIRONMENT, adapter)));
                for (String line : progress.toString(StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank() && !line.startsWith("[")) LOG.info("convert: " + line.strip()); // not per tensor
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make the demo model in " + dir.toAbsolutePath() + ": " + e.getMessage()
                        + "; set qwen-audio.demo.dir to a writable directory, or qwen-audio.artifacts-dir to a converted model", e);
            }
            LOG.info(String.format("demo model ready in %.1f s", (System.nanoTime() - t0) / 1e9));
        }
        LOG.warning("SERVING THE TINY DEMO MODEL (random weights): its answers are random text. To serve Qwen2-Audio, "
                + "convert a checkpoint with 'model-artifacts/qwen-audio convert <Qwen2-Audio-7B-Instruct dir> --out <dir>' "
                + "and start with QWEN_AUDIO_ARTIFACTS_DIR=<dir>");
        return artifacts;
    }

    @Override
    public Map<String, String> environments() {
        return Map.of(MakeTiny.ADAPTER_ENVIRONMENT, "adapters/" + MakeTiny.ADAPTER_ENVIRONMENT);
    }

    /** True when the app serves the demo model. */
    public boolean used() {
        return used;
    }
}
