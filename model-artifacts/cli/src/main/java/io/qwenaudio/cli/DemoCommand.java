package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.encoder.AudioEncoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio demo}: makes a sample recording (a 44.1 kHz stereo WAV with a gliding voiced tone, 40 s so it
 * spans two 30 s windows) and runs it through the front-end, printing what each step produced. Needs no model.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Generate a sample 44.1 kHz stereo WAV and run the Qwen2-Audio front-end on it.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--dir", defaultValue = "qwen-audio-sample", paramLabel = "<dir>",
            description = "Where the sample and its features are written (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Override
    public Integer call() throws IOException {
        Files.createDirectories(dir);
        Path wav = dir.resolve("sample-44k1-stereo.wav");
        Files.write(wav, SampleAudio.voicedGlide(44_100, 40.0, 2));
        System.out.println("sample: " + wav + " (44.1 kHz, 2 channels, 40.0 s, 16-bit PCM)");

        long t0 = System.nanoTime();
        Features f;
        try (AudioStream in = AudioDecoder.open(wav)) {
            f = FeatureExtractor.extract(in, AudioLimits.DEFAULT);
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        System.out.printf(Locale.ROOT, "front-end: decode + resample to 16 kHz + log-mel in %.1f ms%n", ms);
        for (int w = 0; w < f.windows(); w++) {
            float[] x = f.window(w);
            double min = Double.MAX_VALUE, max = -Double.MAX_VALUE, sum = 0;
            for (float v : x) {
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
            }
            int n = FeatureExtractor.N_MELS * FeatureExtractor.FRAMES;
            System.out.printf(Locale.ROOT,
                    "window %d: [128,3000] valid frames %d -> %d audio tokens; min %.3f max %.3f mean %.3f%n",
                    w, f.melLength(w), AudioEncoder.validTokens(f.melLength(w)), min, max, sum / n);
        }
        Path out = dir.resolve("features.npy");
        Path mask = dir.resolve("mask.npy");
        FeaturesCommand.write(f, out, mask);
        System.out.println("wrote " + out + " and " + mask + " (load with numpy.load)");
        return 0;
    }

}
