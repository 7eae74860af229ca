package io.qwenaudio.cli;

import ai.onnxruntime.OrtException;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.events.Wire;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.stages.AdaptStage;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.tensor.FloatTensor;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The arguments {@code encode} and {@code generate} share (artifacts, audio file, environment, execution
 * provider, checksum switch) and the first two stages they both run, with the stage classes the functions use.
 */
final class AudioModelOptions {

    @Parameters(index = "0", paramLabel = "<artifacts-dir>", description = "Made by 'qwen-audio convert'.")
    Path artifacts;

    @Parameters(index = "1", paramLabel = "<audio-file>", description = "WAV, FLAC or MP3.")
    Path audio;

    @Option(names = "--environment", paramLabel = "NAME",
            description = "Domain adapter to apply to the audio (as converted with --adapter NAME=...); 'none' for none.")
    String environment;

    @Mixin
    RuntimeArgs runtime;

    /** The artifacts, opened on the chosen execution provider (no warm-up: one request). */
    ModelArtifacts open() {
        CliFiles.requireDirectory(artifacts, "artifacts directory");
        CliFiles.requireReadable(audio, "audio file");
        return ModelArtifacts.open(artifacts, runtime.options());
    }

    /** The audio through the encode stage and, with {@code --environment}, the adapt stage. */
    record Audio(EncodeStage.Encoded encoded, FloatTensor hidden, Wire.AdapterStats adapter) {
    }

    Audio encode(ModelArtifacts model) throws IOException, OrtException {
        EncodeStage.Encoded e;
        try (EncodeStage encode = new EncodeStage(model.encoder(AudioEncoder.Batching.none(), null), null, AudioLimits.DEFAULT)) {
            e = encode.encodeAudio(Files.readAllBytes(audio));
        }
        if (environment == null || environment.equals(AdaptStage.NONE)) return new Audio(e, e.hidden(), null);
        int d = model.manifest().audio().dModel();
        try (AdaptStage adapt = new AdaptStage(Map.of(environment, model.adapter(environment)), null, d)) {
            AdaptStage.Adapted a = adapt.adapt(environment, e.hidden()); // [N, d]
            return new Audio(e, a.hidden(), a.stats());
        }
    }
}
