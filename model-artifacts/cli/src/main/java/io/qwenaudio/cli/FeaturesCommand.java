package io.qwenaudio.cli;

import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.tensor.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio features <audio-file> --out <features.npy> [--mask-out <mask.npy>]}: the Whisper log-mel
 * front-end of Qwen2-Audio. Writes float32 {@code [W,128,3000]} (one row block per 30 s window) and an int32 0/1
 * {@code feature_attention_mask} {@code [W,3000]}.
 */
@Command(name = "features", mixinStandardHelpOptions = true,
        description = {"Compute Whisper log-mel features [W,128,3000] (W = number of 30 s windows) from an audio file.",
                "Accepted audio: WAV (PCM 8/16/24/32-bit, float 32/64-bit, any channel count), FLAC, MP3;"
                        + " any sample rate (resampled to 16 kHz)."})
final class FeaturesCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "<audio-file>", description = "WAV, FLAC or MP3 file.")
    Path audioFile;

    @Option(names = "--out", required = true, paramLabel = "<features.npy>",
            description = "Output .npy: float32 [W,128,3000].")
    Path out;

    @Option(names = "--mask-out", paramLabel = "<mask.npy>",
            description = "Optional output .npy: int32 0/1 feature_attention_mask [W,3000].")
    Path maskOut;

    @Option(names = "--max-duration", paramLabel = "<seconds>", defaultValue = "600",
            description = "Reject audio longer than this many seconds (default: ${DEFAULT-VALUE}).")
    double maxDurationSeconds;

    @Override
    public Integer call() throws IOException {
        if (!(maxDurationSeconds > 0) || Double.isInfinite(maxDurationSeconds)) {
            throw new UserInputException("--max-duration must be a positive number of seconds, got " + maxDurationSeconds);
        }
        CliFiles.requireWritableFile(out, "--out");
        if (maskOut != null) CliFiles.requireWritableFile(maskOut, "--mask-out");
        AudioLimits limits = AudioLimits.DEFAULT.withMaxDurationSeconds(maxDurationSeconds);
        Features features;
        try (AudioStream in = AudioDecoder.open(CliFiles.requireReadable(audioFile, "audio file"), limits)) {
            features = FeatureExtractor.extract(in, limits);
        }
        write(features, out, maskOut);
        System.err.printf("%s: %.2f s of audio -> %d window(s) of [128,3000] -> %s%n",
                audioFile.getFileName(), features.durationSeconds(), features.windows(), out);
        return 0;
    }

    /** Writes features as float32 [W,128,3000] and, if {@code maskOut} is given, the int32 mask [W,3000]. */
    static void write(Features features, Path out, Path maskOut) throws IOException {
        int w = features.windows();
        List<float[]> windows = new ArrayList<>(w);
        for (int i = 0; i < w; i++) windows.add(features.window(i));
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
            Npy.writeFloatBlocks(os, new long[] {w, FeatureExtractor.N_MELS, FeatureExtractor.FRAMES}, windows);
        }
        if (maskOut != null) {
            int[] mask = new int[w * FeatureExtractor.FRAMES];
            for (int i = 0; i < w; i++) {
                System.arraycopy(features.mask(i), 0, mask, i * FeatureExtractor.FRAMES, FeatureExtractor.FRAMES);
            }
            Npy.write(maskOut, mask, w, FeatureExtractor.FRAMES);
        }
    }
}
