package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenaudio.audio.AudioTestTools.Enc;
import io.qwenaudio.testtools.ExternalTool;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link AudioDecoder}: WAV variants (bytes written here and files made by sox), FLAC, MP3 and downmixing. */
class AudioDecoderTest {

    @TempDir
    Path dir;

    private static double[][] signal(int frames, int channels, long seed) {
        Random rnd = new Random(seed);
        double[][] s = new double[frames][channels];
        for (int i = 0; i < frames; i++) {
            for (int c = 0; c < channels; c++) {
                s[i][c] = Math.max(-1, Math.min(0.999, 0.3 * rnd.nextGaussian()));
            }
        }
        return s;
    }

    /** Mono samples the decoder must return: the stored values averaged over channels, as float. */
    private static float[] expectedMono(Enc enc, double[][] s) {
        float[] m = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            double sum = 0;
            for (double v : s[i]) {
                sum += AudioTestTools.quantised(enc, v);
            }
            m[i] = s[i].length == 1 ? (float) sum : (float) sum * (1.0f / s[i].length);
        }
        return m;
    }

    private static float[] decode(byte[] bytes) {
        try (AudioStream st = AudioDecoder.open(bytes)) {
            return AudioTestTools.readAll(st);
        }
    }

    @ParameterizedTest
    @EnumSource(Enc.class)
    void plainWavEveryEncoding(Enc enc) {
        double[][] s = signal(5000, 1, enc.ordinal());
        byte[] wav = AudioTestTools.wav(enc, 22050, s);
        try (AudioStream st = AudioDecoder.open(wav)) {
            assertEquals(22050, st.sampleRate());
            assertEquals(1, st.channels());
            assertEquals(5000, st.frames());
            assertTrue(st.encoding().startsWith("WAV " + enc.bits + "-bit"), st.encoding());
            assertArrayEquals(expectedMono(enc, s), AudioTestTools.readAll(st));
        }
    }

    @ParameterizedTest
    @EnumSource(Enc.class)
    void extensibleWavMultichannelDownmix(Enc enc) {
        double[][] s = signal(3001, 6, 100 + enc.ordinal());
        byte[] wav = AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmtExtensible(enc.tag, 6, 48000,
                enc.bits)), AudioTestTools.chunk("data", AudioTestTools.sampleBytes(enc, s)));
        try (AudioStream st = AudioDecoder.open(wav)) {
            assertEquals(6, st.channels());
            float[] got = AudioTestTools.readAll(st);
            float[] want = expectedMono(enc, s);
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6f, "frame " + i);
            }
        }
    }

    @Test
    void stereoIsAveraged() {
        double[][] s = {{0.5, -0.25}, {1.0 - 1 / 32768.0, 1.0 - 1 / 32768.0}, {-1, 0}, {0.25, 0.75}};
        float[] got = decode(AudioTestTools.wav(Enc.PCM16, 16000, s));
        assertArrayEquals(new float[] {0.125f, 1.0f - 1 / 32768.0f, -0.5f, 0.5f}, got);
    }

    @Test
    void extraChunksOddSizesAndStreamingDataSizes() {
        double[][] s = signal(777, 2, 5);
        byte[] fmt = AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 2, 16000, 16));
        byte[] data = AudioTestTools.sampleBytes(Enc.PCM16, s);
        float[] want = expectedMono(Enc.PCM16, s);
        byte[] list = AudioTestTools.chunk("LIST", "INFOISFT\u0005\u0000\u0000\u0000test\u0000".getBytes());
        byte[] odd = AudioTestTools.chunk("junk", new byte[] {1, 2, 3}); // odd size, padded
        byte[] fact = AudioTestTools.chunk("fact", new byte[] {9, 3, 0, 0});
        assertArrayEquals(want, decode(AudioTestTools.riff(list, fmt, odd, fact, AudioTestTools.chunk("data", data),
                AudioTestTools.chunk("LIST", new byte[10]))));
        // data size 0 and 0xFFFFFFFF (streaming writers): read to the end
        assertArrayEquals(want, decode(AudioTestTools.riff(fmt, AudioTestTools.chunk("data", data, 0))));
        assertArrayEquals(want, decode(AudioTestTools.riff(fmt, AudioTestTools.chunk("data", data, 0xFFFFFFFFL))));
        // RIFF size field 0 too
        byte[] f = AudioTestTools.riff(fmt, AudioTestTools.chunk("data", data, 0xFFFFFFFFL));
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 0);
        assertArrayEquals(want, decode(f));
        // a truncated last frame is dropped
        byte[] cut = Arrays.copyOf(AudioTestTools.riff(fmt, AudioTestTools.chunk("data", data)),
                44 + data.length - 3);
        assertArrayEquals(Arrays.copyOf(want, want.length - 1), decode(cut));
    }

    /** sox writes the file (WAVE_FORMAT_EXTENSIBLE for > 16 bits or > 2 channels); sox's own decode is the reference. */
    @ParameterizedTest
    @CsvSource({"unsigned-integer,8,1", "signed-integer,16,1", "signed-integer,24,1", "signed-integer,32,1",
            "floating-point,32,1", "floating-point,64,1", "signed-integer,16,2", "signed-integer,24,4",
            "floating-point,32,3"})
    void soxWrittenWav(String encoding, int bits, int channels) throws Exception {
        ExternalTool.SOX.require();
        Path wav = dir.resolve("sox.wav");
        AudioTestTools.run("sox", "-n", "-r", "24000", "-e", encoding, "-b", String.valueOf(bits), "-c",
                String.valueOf(channels), wav.toString(), "synth", "0.5", "sine", "300-3000", "vol", "0.8");
        Path raw = dir.resolve("sox.f64");
        AudioTestTools.run("sox", wav.toString(), "-t", "f64", "-e", "floating-point", "-b", "64", raw.toString());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(raw)).order(ByteOrder.LITTLE_ENDIAN);
        int frames = b.remaining() / 8 / channels;
        float[] got;
        try (AudioStream st = AudioDecoder.open(wav)) {
            assertEquals(24000, st.sampleRate());
            assertEquals(channels, st.channels());
            got = AudioTestTools.readAll(st);
        }
        assertEquals(frames, got.length);
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            for (int c = 0; c < channels; c++) {
                sum += b.getDouble();
            }
            assertEquals(sum / channels, got[i], 1e-6, "frame " + i);
        }
    }

    @ParameterizedTest
    @CsvSource({"16,1", "24,1", "16,2", "24,2"})
    void flacEqualsPcmSource(int bits, int channels) throws Exception {
        ExternalTool.SOX.require();
        Path wav = dir.resolve("src.wav");
        AudioTestTools.run("sox", "-n", "-r", "44100", "-e", "signed-integer", "-b", String.valueOf(bits), "-c",
                String.valueOf(channels), wav.toString(), "synth", "3", "pinknoise", "vol", "0.5");
        Path flac = dir.resolve("src.flac");
        AudioTestTools.run("sox", wav.toString(), flac.toString());
        float[] pcm = AudioTestTools.decodeAll(wav);
        // the format is detected from the bytes, not the name
        Path renamed = dir.resolve("renamed.wav");
        Files.copy(flac, renamed);
        try (AudioStream st = AudioDecoder.open(renamed)) {
            assertEquals("FLAC " + bits + "-bit", st.encoding());
            assertEquals(44100, st.sampleRate());
            assertEquals(channels, st.channels());
            assertEquals(pcm.length, st.frames());
            assertArrayEquals(pcm, AudioTestTools.readAll(st));
        }
    }

    @ParameterizedTest
    @CsvSource({"44100,1,128k,1", "44100,2,192k,1", "22050,1,64k,1", "16000,1,48k,1", "44100,2,128k,0",
            "24000,1,32k,0"})
    void mp3MatchesFfmpegDecode(int rate, int channels, String bitrate, int xing) throws Exception {
        ExternalTool.FFMPEG.require();
        ExternalTool.SOX.require();
        Path speech = AudioTestTools.speech(dir, "speech", "MP3 decoding is compared with ffmpeg's decoder.");
        Path src = dir.resolve("src.wav");
        AudioTestTools.run("sox", speech.toString(), "-r", String.valueOf(rate), "-c", String.valueOf(channels),
                src.toString(), "rate", "-v");
        Path mp3 = dir.resolve("a.bin");
        AudioTestTools.run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src.toString(), "-c:a",
                "libmp3lame", "-b:a", bitrate, "-write_xing", String.valueOf(xing), "-f", "mp3", mp3.toString());
        Path raw = dir.resolve("ref.f32");
        // ffmpeg's own stereo-to-mono mix uses -3 dB gains, so decode all channels and average them here
        AudioTestTools.run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", mp3.toString(), "-f", "f32le",
                raw.toString());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(raw)).order(ByteOrder.LITTLE_ENDIAN);
        float[] ref = new float[b.remaining() / 4 / channels];
        for (int i = 0; i < ref.length; i++) {
            double sum = 0;
            for (int c = 0; c < channels; c++) {
                sum += b.getFloat();
            }
            ref[i] = (float) (sum / channels);
        }
        float[] got;
        try (AudioStream st = AudioDecoder.open(mp3)) {
            assertEquals(rate, st.sampleRate());
            assertEquals(channels, st.channels());
            assertTrue(st.encoding().startsWith("MP3"), st.encoding());
            got = AudioTestTools.readAll(st);
        }
        // with a Xing/LAME frame both trim delay and padding (gapless); without it, align by cross-correlation
        int lag = bestLag(got, ref, 4000);
        if (xing == 1) {
            assertEquals(0, lag, "gapless start");
            assertEquals(ref.length, got.length, "gapless length");
        }
        double sig = 0;
        double err = 0;
        for (int i = 0; i < ref.length; i++) {
            int j = i + lag;
            if (j < 0 || j >= got.length) {
                continue;
            }
            sig += (double) ref[i] * ref[i];
            double d = got[j] - ref[i];
            err += d * d;
        }
        double snr = 10 * Math.log10(sig / err);
        // jlayer's output level differs from ffmpeg's by a constant ~0.02 dB; report the SNR after a gain fit too
        double ab = 0;
        double aa = 0;
        for (int i = 0; i < ref.length; i++) {
            int j = i + lag;
            if (j >= 0 && j < got.length) {
                ab += (double) got[j] * ref[i];
                aa += (double) got[j] * got[j];
            }
        }
        double gain = ab / aa;
        double errFit = 0;
        for (int i = 0; i < ref.length; i++) {
            int j = i + lag;
            if (j >= 0 && j < got.length) {
                double d = gain * got[j] - ref[i];
                errFit += d * d;
            }
        }
        System.out.printf("mp3 %d Hz %d ch %s xing=%d: lag %d samples, SNR vs ffmpeg %.1f dB (%.1f dB after gain"
                + " %.5f)%n", rate, channels, bitrate, xing, lag, snr, 10 * Math.log10(sig / errFit), gain);
        assertTrue(snr >= 40, "MP3 decode SNR vs ffmpeg " + snr + " dB < 40 dB");
        assertTrue(Math.abs(got.length - lag - ref.length) <= 2 * 1152, "lengths " + got.length + " vs " + ref.length);
    }

    /** Lag L maximising sum a[i + L] * b[i], L in 0..maxLag. */
    private static int bestLag(float[] a, float[] b, int maxLag) {
        int best = 0;
        double bestVal = Double.NEGATIVE_INFINITY;
        for (int lag = 0; lag <= maxLag; lag++) {
            double s = 0;
            for (int i = 0; i < b.length && i + lag < a.length; i++) {
                s += (double) a[i + lag] * b[i];
            }
            if (s > bestVal) {
                bestVal = s;
                best = lag;
            }
        }
        return best;
    }
}
