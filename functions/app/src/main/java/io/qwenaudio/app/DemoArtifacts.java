package io.qwenaudio.app;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.serving.ArtifactsFallback;
import io.qwenaudio.serving.ServingConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The model the app serves when {@code qwen-audio.artifacts-dir} is not set: the tiny demo model (random weights,
 * one domain adapter {@code ldv}) that {@code qwen-audio demo-model} makes in {@code qwen-audio.demo.dir}. The app
 * itself carries no converter: when the demo model is missing, the start stops with the command that makes it.
 */
@ApplicationScoped
public class DemoArtifacts implements ArtifactsFallback {

    private static final Logger LOG = Logger.getLogger(DemoArtifacts.class.getName());
    /** The demo model's one domain adapter. */
    static final String ENVIRONMENT = "ldv";

    @Inject
    ServingConfig config;

    private volatile boolean used;

    @Override
    public Path artifactsDir() {
        Path dir = config.demo().dir();
        Path artifacts = dir.resolve("artifacts");
        if (!Files.isRegularFile(artifacts.resolve(Manifest.FILE))) {
            throw new ArtifactsException("no model to serve: qwen-audio.artifacts-dir (QWEN_AUDIO_ARTIFACTS_DIR) is not set "
                    + "and there is no demo model in " + artifacts.toAbsolutePath() + ". Make the demo model with "
                    + "'model-artifacts/qwen-audio demo-model --dir " + dir + "', or convert a checkpoint with "
                    + "'model-artifacts/qwen-audio convert <checkpoint> --out <dir>' and set QWEN_AUDIO_ARTIFACTS_DIR=<dir>");
        }
        used = true;
        LOG.warning("SERVING THE TINY DEMO MODEL (random weights) from " + artifacts.toAbsolutePath() + ": its answers are "
                + "random text. To serve Qwen2-Audio, convert a checkpoint with 'model-artifacts/qwen-audio convert "
                + "<Qwen2-Audio-7B-Instruct dir> --out <dir>' and start with QWEN_AUDIO_ARTIFACTS_DIR=<dir>");
        return artifacts;
    }

    @Override
    public Map<String, String> environments() {
        return Map.of(ENVIRONMENT, "adapters/" + ENVIRONMENT);
    }

    /** True when the app serves the demo model. */
    public boolean used() {
        return used;
    }
}
