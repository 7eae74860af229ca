package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.management.ThreadMXBean;
import io.qwenaudio.audio.AudioTestTools.Enc;
import io.qwenaudio.testtools.ExternalTool;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feature-extraction benchmark, run only with {@code -Dbench=true}: Java vs the numpy reference script on the same
 * 30 s and 5 min clips (the script times itself, so python start-up is excluded), and bytes allocated per clip
 * by the streaming path (file -> decoder -> features), summed over all threads. Live memory is one window of
 * samples plus the output; the allocation figure also counts short-lived per-frame FFT scratch arrays that
 * JTransforms allocates for non-power-of-two sizes (n = 400), which grows with length but is never retained.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class FeatureBenchmarkTest {

    @TempDir
    Path dir;

    @Test
    void javaVsNumpy() throws Exception {
        ExternalTool.PYTHON_NUMPY.require();
        for (int seconds : new int[] {30, 300}) {
            float[] x = clip(seconds);
            Path npy = dir.resolve("clip" + seconds + ".npy");
            AudioTestTools.writeNpy(npy, x);
            int repeats = seconds == 30 ? 20 : 5;
            for (int i = 0; i < (seconds == 30 ? 30 : 5); i++) {
                FeatureExtractor.extract(x); // warm-up: JIT and heap pages
            }
            double[] ms = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                Features f = FeatureExtractor.extract(x);
                ms[i] = (System.nanoTime() - t0) / 1e6;
                assertEquals((seconds + 29) / 30, f.windows());
            }
            Arrays.sort(ms);
            double javaMs = ms[repeats / 2];
            String out = AudioTestTools.run("python3", AudioTestTools.SCRIPT.toString(), "time", npy.toString(),
                    String.valueOf(seconds == 30 ? 5 : 2));
            Matcher m = Pattern.compile("ms_per_clip=([0-9.]+)").matcher(out);
            if (!m.find()) {
                throw new AssertionError("no timing in script output: " + out);
            }
            double numpyMs = Double.parseDouble(m.group(1));
            System.out.printf("bench features %3d s clip (%2d windows): java %.1f ms, numpy %.1f ms, numpy/java %.1fx%n",
                    seconds, (seconds + 29) / 30, javaMs, numpyMs, numpyMs / javaMs);
        }
    }

    @Test
    void allocationPerClip() throws Exception {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int rate : new int[] {16000, 44100}) {
            for (int seconds : new int[] {30, 300}) {
                float[] x = AudioTestTools.tones(rate, seconds, 0.2, 220, 1800, 5100);
                Path wav = dir.resolve("clip" + rate + "-" + seconds + ".wav");
                AudioTestTools.writeBytes(wav, AudioTestTools.wav(Enc.PCM16, rate, x));
                x = null;
                long best = Long.MAX_VALUE;
                int windows = 0;
                for (int i = 0; i < 3; i++) {
                    long before = allocatedByAllThreads(mx);
                    try (AudioStream s = AudioDecoder.open(wav)) {
                        windows = FeatureExtractor.extract(s, AudioLimits.DEFAULT).windows();
                    }
                    best = Math.min(best, allocatedByAllThreads(mx) - before);
                }
                long output = (long) windows * 128 * 3000 * Float.BYTES;
                System.out.printf("bench alloc %5d Hz %3d s clip: %.1f MB allocated, output %.1f MB, other %.1f MB%n",
                        rate, seconds, best / 1e6, output / 1e6, (best - output) / 1e6);
            }
        }
    }

    /** Bytes allocated so far by all live threads (frames of a window are computed on the fork-join pool). */
    private static long allocatedByAllThreads(ThreadMXBean mx) {
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) {
            sum += Math.max(0, b);
        }
        return sum;
    }

    private static float[] clip(int seconds) {
        int n = seconds * 16000;
        float[] x = new float[n];
        Random rnd = new Random(seconds);
        for (int i = 0; i < n; i++) {
            double t = i / 16000.0;
            x[i] = (float) (0.2 * Math.sin(2 * Math.PI * (150 + 40 * Math.sin(t)) * t) * (0.6 + 0.4 * Math.sin(3 * t))
                    + 0.02 * rnd.nextGaussian());
        }
        return x;
    }
}
