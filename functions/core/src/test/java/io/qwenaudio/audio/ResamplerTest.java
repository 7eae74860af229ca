package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenaudio.testtools.ExternalTool;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.jtransforms.fft.DoubleFFT_1D;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Resampler} against sox's very-high-quality linear-phase resampler ({@code rate -v -L}).
 *
 * <p>In-band SNR, as measured here: both 16 kHz outputs are aligned (best lag within +-64 samples by
 * cross-correlation; it is expected to be 0), 0.1 s is cut at both ends (start-up transients), both are
 * multiplied by the same Hann window and transformed with one FFT over the whole clip; only bins at or below
 * 7.5 kHz are kept (both filters are flat there; 7.5-8 kHz is the transition band where designs may differ).
 * When up-sampling, the band is also limited to 90% of the input Nyquist frequency (3.6 kHz for 8 kHz input):
 * above that lies the input's own transition band, where sox (-3 dB at 95%) and this filter (flat to 95%)
 * differ by design, and nothing but images is left above the input Nyquist frequency.
 * SNR = 10 log10(sum |S|^2 / sum |J - S|^2) over those bins, with S = sox and J = this resampler. Required: 60 dB.
 */
class ResamplerTest {

    private static final double MIN_SNR_DB = 60.0;

    @TempDir
    static Path dir;

    @BeforeAll
    static void tools() {
        ExternalTool.SOX.require();
    }

    @ParameterizedTest
    @ValueSource(ints = {44100, 48000, 22050, 8000, 11025, 96000})
    void tonesMatchSox(int rate) throws Exception {
        double nyq = rate / 2.0;
        double[] freqs = rate >= 16000 ? new double[] {97, 440, 1000, 2500, 4100, 6000, 6950}
                : new double[] {97, 440, 1000, 2500, 0.85 * nyq};
        float[] x = AudioTestTools.tones(rate, 2.0, 0.12, freqs);
        double snr = snrAgainstSox("tones" + rate, x, rate);
        System.out.printf("resampler tones %6d -> 16000 Hz: in-band SNR vs sox %.1f dB (band 0..%.0f Hz)%n", rate, snr,
                bandHz(rate));
        assertTrue(snr >= MIN_SNR_DB, rate + " Hz tones: SNR " + snr + " dB < " + MIN_SNR_DB);
    }

    @ParameterizedTest
    @ValueSource(ints = {22050, 44100, 48000, 8000})
    void speechMatchesSox(int rate) throws Exception {
        Path speech = AudioTestTools.speech(dir, "speech-" + rate,
                "Resampling speech from one rate to sixteen kilohertz, compared with sox.");
        Path src = speech;
        if (rate != 22050) {
            src = dir.resolve("speech-src-" + rate + ".wav");
            AudioTestTools.run("sox", speech.toString(), "-e", "floating-point", "-b", "32", src.toString(),
                    "rate", "-v", String.valueOf(rate));
        }
        float[] x = AudioTestTools.decodeAll(src);
        assertEquals(rate, AudioTestTools.sampleRateOf(src));
        double snr = snrAgainstSox("speech" + rate, x, rate);
        System.out.printf("resampler speech %6d -> 16000 Hz: in-band SNR vs sox %.1f dB (band 0..%.0f Hz)%n", rate,
                snr, bandHz(rate));
        assertTrue(snr >= MIN_SNR_DB, rate + " Hz speech: SNR " + snr + " dB < " + MIN_SNR_DB);
    }

    @Test
    void streamingEqualsOneShot() {
        Random rnd = new Random(3);
        for (int rate : new int[] {44100, 8000, 22050, 44101}) {
            float[] x = new float[rate * 2 + 17];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian() * 0.1f;
            }
            float[] oneShot = Resampler.resample(x, rate, 16000);
            Resampler r = Resampler.to16k(rate);
            float[] acc = new float[0];
            int pos = 0;
            while (pos < x.length) {
                int len = Math.min(x.length - pos, 1 + rnd.nextInt(3000));
                acc = concat(acc, r.process(x, pos, len));
                pos += len;
            }
            acc = concat(acc, r.flush());
            assertArrayEquals(oneShot, acc, "chunked vs one-shot at " + rate + " Hz");
            assertEquals(r.outputLength(x.length), acc.length);
            assertEquals((x.length * 16000L + rate - 1) / rate, acc.length);
        }
    }

    @Test
    void passThroughAt16kIsUntouched() {
        float[] x = AudioTestTools.tones(16000, 0.5, 0.3, 1234);
        assertSame(x, Resampler.resample(x, 16000, 16000));
        Resampler r = Resampler.to16k(16000);
        assertArrayEquals(x, r.process(x, 0, x.length));
        assertEquals(0, r.flush().length);
    }

    @Test
    void dcGainIsOne() {
        float[] x = new float[44100];
        Arrays.fill(x, 0.5f);
        float[] y = Resampler.resample(x, 44100, 16000);
        for (int i = 2000; i < y.length - 2000; i++) {
            assertEquals(0.5, y[i], 1e-5);
        }
    }

    /** Resamples {@code x} with both implementations and returns the in-band SNR (see class comment). */
    private static double snrAgainstSox(String name, float[] x, int rate) throws Exception {
        Path in = dir.resolve(name + "-in.wav");
        Path out = dir.resolve(name + "-sox16k.wav");
        AudioTestTools.writeBytes(in, AudioTestTools.wav(AudioTestTools.Enc.FLOAT32, rate, x));
        AudioTestTools.run("sox", in.toString(), "-e", "floating-point", "-b", "32", out.toString(),
                "rate", "-v", "-L", "16000");
        float[] sox = AudioTestTools.decodeAll(out);
        float[] mine = Resampler.resample(x, rate, 16000);
        assertTrue(Math.abs(sox.length - mine.length) <= 2, "lengths " + sox.length + " vs " + mine.length);
        int lag = bestLag(mine, sox, 64);
        assertEquals(0, lag, "this resampler and sox are both delay-compensated");
        int trim = 1600;
        int n = Math.min(mine.length, sox.length) - 2 * trim;
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            double w = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / n);
            a[i] = w * mine[trim + i];
            b[i] = w * sox[trim + i];
        }
        DoubleFFT_1D fft = new DoubleFFT_1D(n);
        fft.realForward(a);
        fft.realForward(b);
        double bandHz = bandHz(rate);
        int maxBin = (int) Math.floor(bandHz * n / 16000.0);
        double sig = 0;
        double err = 0;
        for (int k = 1; k <= maxBin && 2 * k + 1 < n; k++) {
            double sr = b[2 * k];
            double si = b[2 * k + 1];
            double dr = a[2 * k] - sr;
            double di = a[2 * k + 1] - si;
            sig += sr * sr + si * si;
            err += dr * dr + di * di;
        }
        sig += b[0] * b[0];
        err += (a[0] - b[0]) * (a[0] - b[0]);
        return 10 * Math.log10(sig / err);
    }

    /** Compared band: up to 7.5 kHz, and up to 90% of the input Nyquist frequency when up-sampling. */
    private static double bandHz(int rate) {
        return rate >= 16000 ? 7500.0 : 0.9 * rate / 2.0;
    }

    private static int bestLag(float[] a, float[] b, int maxLag) {
        int best = 0;
        double bestVal = Double.NEGATIVE_INFINITY;
        int n = Math.min(a.length, b.length);
        for (int lag = -maxLag; lag <= maxLag; lag++) {
            double s = 0;
            for (int i = Math.max(0, -lag); i < n && i + lag < n; i++) {
                s += (double) a[i] * b[i + lag];
            }
            if (s > bestVal) {
                bestVal = s;
                best = lag;
            }
        }
        return best;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
