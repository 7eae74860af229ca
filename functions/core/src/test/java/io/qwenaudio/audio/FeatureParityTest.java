package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenaudio.tensor.Npy;
import io.qwenaudio.testtools.ExternalTool;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FeatureExtractor} against the numpy reference {@code src/test/python/whisper_features.py} (the Hugging
 * Face WhisperFeatureExtractor numpy path), max abs difference at most 1e-6, plus window counts, mel lengths and
 * masks. Both sides get exactly the same 16 kHz float32 samples.
 */
class FeatureParityTest {

    /** Max abs log-mel difference: measured 1.2e-7 (one float32 ulp near 1.0) on every clip. */
    private static final float TOLERANCE = 1e-6f;

    @TempDir
    static Path dir;

    @BeforeAll
    static void tools() {
        ExternalTool.PYTHON_NUMPY.require();
    }

    @Test
    void chirp() throws Exception {
        int n = 16000 * 7;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double t = i / 16000.0;
            x[i] = (float) (0.4 * Math.sin(2 * Math.PI * (100 * t + 550 * t * t)));
        }
        compare("chirp", x);
    }

    @Test
    void speech() throws Exception {
        Path wav = AudioTestTools.speech(dir, "speech", "The quick brown fox jumps over the lazy dog. "
                + "Feature extraction must match the reference to four decimal places.");
        float[] x;
        try (AudioStream s = Resampler.to16k(AudioDecoder.open(wav))) {
            x = AudioTestTools.readAll(s);
        }
        compare("speech", x);
    }

    @Test
    void silence() throws Exception {
        Features f = compare("silence", new float[16000 * 10]);
        for (float v : f.window(0)) {
            assertEquals(-1.5f, v, 0f, "pure zeros give log10(1e-10) -> (-10 + 4) / 4");
        }
    }

    @Test
    void shorterThanOneSecond() throws Exception {
        float[] x = AudioTestTools.tones(16000, 0.437, 0.2, 440, 1250, 3100);
        Features f = compare("short", x);
        assertEquals((x.length + 159) / 160, f.melLength(0));
    }

    @Test
    void seventyFiveSecondsGiveThreeWindows() throws Exception {
        int n = 16000 * 75;
        float[] x = new float[n];
        Random rnd = new Random(7);
        for (int i = 0; i < n; i++) {
            double t = i / 16000.0;
            x[i] = (float) (0.2 * Math.sin(2 * Math.PI * (300 + 20 * t) * t) + 0.05 * rnd.nextGaussian()
                    * (0.5 + 0.5 * Math.sin(t)));
        }
        Features f = compare("long75", x);
        assertEquals(3, f.windows());
        assertEquals(3000, f.melLength(0));
        assertEquals(3000, f.melLength(1));
        assertEquals(1500, f.melLength(2));
        assertEquals(75.0, f.durationSeconds(), 1e-9);
    }

    @Test
    void stereo44kFileThroughDecoderAndResampler() throws Exception {
        ExternalTool.SOX.require();
        Path speech = AudioTestTools.speech(dir, "speech44src", "Stereo input at forty four point one kilohertz.");
        Path s44 = dir.resolve("speech44.wav");
        AudioTestTools.run("sox", speech.toString(), "-r", "44100", s44.toString(), "rate", "-v");
        float[] left = AudioTestTools.decodeAll(s44);
        float[] right = AudioTestTools.tones(44100, left.length / 44100.0, 0.1, 523.25, 2093);
        double[][] frames = new double[left.length][2];
        for (int i = 0; i < left.length; i++) {
            frames[i][0] = left[i];
            frames[i][1] = right[i];
        }
        Path stereo = dir.resolve("stereo44.wav");
        AudioTestTools.writeBytes(stereo, AudioTestTools.wav(AudioTestTools.Enc.PCM16, 44100, frames));

        float[] x;
        try (AudioStream s = Resampler.to16k(AudioDecoder.open(stereo))) {
            assertEquals(16000, s.sampleRate());
            x = AudioTestTools.readAll(s);
        }
        Features viaStream;
        try (AudioStream s = AudioDecoder.open(stereo)) {
            assertEquals(2, s.channels());
            assertEquals(44100, s.sampleRate());
            viaStream = FeatureExtractor.extract(s, AudioLimits.DEFAULT);
        }
        assertEquals(x.length, viaStream.numSamples());
        Features f = compare("stereo44", x);
        assertEquals(0f, AudioTestTools.maxAbsDiff(f.window(0), viaStream.window(0)),
                "streaming extraction equals extraction of the same samples in one array");
    }

    /** Runs both implementations on {@code x}, asserts parity and returns the Java features. */
    private static Features compare(String name, float[] x) throws Exception {
        Path in = dir.resolve(name + ".npy");
        AudioTestTools.writeNpy(in, x);
        Path prefix = dir.resolve(name);
        AudioTestTools.run("python3", AudioTestTools.SCRIPT.toString(), "features", in.toString(), prefix.toString());
        Npy.Array ref = Npy.read(Path.of(prefix + ".features.npy"));
        int[] refLengths = toInts(Npy.read(Path.of(prefix + ".lengths.npy")));
        float[] refData = ref.toFloats();

        Features f = FeatureExtractor.extract(x);
        assertEquals(ref.shape()[0], f.windows(), name + ": window count");
        assertEquals(128, ref.shape()[1]);
        assertEquals(3000, ref.shape()[2]);
        assertEquals(x.length, f.numSamples());
        int per = 128 * 3000;
        float worst = 0;
        for (int w = 0; w < f.windows(); w++) {
            float[] mine = f.window(w);
            assertEquals(per, mine.length);
            float[] theirs = Arrays.copyOfRange(refData, w * per, (w + 1) * per);
            worst = Math.max(worst, AudioTestTools.maxAbsDiff(mine, theirs));
            assertEquals(refLengths[w], f.melLength(w), name + ": mel length of window " + w);
            int samplesInWindow = (int) Math.min(480000, x.length - 480000L * w);
            assertEquals((samplesInWindow + 159) / 160, f.melLength(w));
            int[] mask = f.mask(w);
            int[] expected = new int[3000];
            Arrays.fill(expected, 0, refLengths[w], 1);
            assertArrayEquals(expected, mask, name + ": mask of window " + w);
        }
        System.out.printf("feature parity %-9s windows=%d max|java-numpy|=%.3e%n", name, f.windows(), worst);
        assertTrue(worst <= TOLERANCE, name + ": max abs difference " + worst + " > " + TOLERANCE);
        return f;
    }

    private static int[] toInts(Npy.Array a) {
        float[] f = a.toFloats();
        int[] r = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = (int) f[i];
        }
        return r;
    }
}
