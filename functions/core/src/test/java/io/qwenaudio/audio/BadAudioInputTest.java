package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qwenaudio.audio.AudioTestTools.Enc;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input gives {@link InvalidAudioException} with a one-line message naming the problem and what is
 * accepted, and never hangs.
 */
class BadAudioInputTest {

    private static final Duration NO_HANG = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** Decodes and extracts features; returns the exception's message. */
    private static String failure(byte[] bytes, AudioLimits limits) {
        InvalidAudioException e = assertTimeoutPreemptively(NO_HANG, () -> assertThrows(InvalidAudioException.class,
                () -> {
                    try (AudioStream s = AudioDecoder.open(bytes, limits)) {
                        FeatureExtractor.extract(s, limits);
                    }
                }));
        String m = e.getMessage();
        assertTrue(m != null && !m.isBlank() && !m.contains("\n"), "one-line message: " + m);
        return m;
    }

    private static String failure(byte[] bytes) {
        return failure(bytes, AudioLimits.DEFAULT);
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + message + "' should contain '" + p + "'");
        }
    }

    @Test
    void emptyInput() {
        assertContains(failure(new byte[0]), "empty audio input", "accepted: WAV");
    }

    @Test
    void emptyFile() throws Exception {
        Path f = dir.resolve("empty.wav");
        Files.write(f, new byte[0]);
        InvalidAudioException e = assertThrows(InvalidAudioException.class, () -> AudioDecoder.open(f).close());
        assertContains(e.getMessage(), "empty audio input");
    }

    @Test
    void truncatedHeaders() {
        byte[] full = AudioTestTools.wav(Enc.PCM16, 16000, new float[100]);
        assertContains(failure(Arrays.copyOf(full, 8)), "truncated or non-WAVE RIFF header");
        assertContains(failure(Arrays.copyOf(full, 12)), "truncated WAV: no fmt chunk");
        assertContains(failure(Arrays.copyOf(full, 30)), "truncated WAV: fmt chunk needs 16 bytes");
        assertContains(failure(Arrays.copyOf(full, 36)), "truncated WAV: no data chunk");
        // a chunk whose declared size runs past the end
        byte[] fmt = AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 1, 16000, 16));
        byte[] huge = AudioTestTools.riff(fmt, AudioTestTools.chunk("LIST", new byte[4], 0x7FFFFFF0L));
        assertContains(failure(huge), "truncated WAV", "LIST");
        assertContains(failure(new byte[] {'f', 'L', 'a', 'C', 0, 0}), "FLAC");
    }

    @Test
    void nonAudioBytes() {
        assertContains(failure("{\"hello\": \"this is json, not audio\"}".getBytes(StandardCharsets.UTF_8)),
                "unrecognised audio format", "accepted: WAV", "FLAC, MP3");
        byte[] noise = new byte[100_000];
        new Random(1).nextBytes(noise);
        noise[0] = 'x';
        assertContains(failure(noise), "unrecognised audio format");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void garbageAfterValidMagicDoesNotHang(int kind) {
        byte[] junk = new byte[200_000];
        new Random(kind).nextBytes(junk);
        byte[] magic = switch (kind) {
            case 0 -> "fLaC".getBytes(StandardCharsets.US_ASCII);
            case 1 -> new byte[] {'I', 'D', '3', 3, 0, 0, 0, 0, 0, 10};
            case 2 -> new byte[] {(byte) 0xFF, (byte) 0xFB, (byte) 0x90, 0x64};
            case 3 -> AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 1, 16000, 16)));
            case 4 -> new byte[] {'f', 'L', 'a', 'C', 0, 0, 0, 34};
            default -> new byte[] {'I', 'D', '3', 4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F};
        };
        byte[] b = Arrays.copyOf(magic, magic.length + junk.length);
        System.arraycopy(junk, 0, b, magic.length, junk.length);
        assertTimeoutPreemptively(NO_HANG, () -> {
            try (AudioStream s = AudioDecoder.open(b)) {
                FeatureExtractor.extract(s, AudioLimits.DEFAULT); // junk may decode as noise: fine, if it ends
            } catch (InvalidAudioException e) {
                assertTrue(!e.getMessage().contains("\n"));
            }
        });
    }

    @Test
    void zeroSamples() {
        byte[] fmt = AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 1, 16000, 16));
        assertContains(failure(AudioTestTools.riff(fmt, AudioTestTools.chunk("data", new byte[0]))),
                "audio has zero samples", "accepted: at least one sample");
        assertThrows(InvalidAudioException.class, () -> FeatureExtractor.extract(new float[0]));
    }

    @Test
    void unsupportedEncodings() {
        byte[] data = AudioTestTools.chunk("data", new byte[200]);
        assertContains(failure(AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(6, 1, 8000, 8)),
                data)), "unsupported WAV encoding: A-law", "accepted: WAV (8-bit unsigned, 16/24/32-bit PCM");
        assertContains(failure(AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(7, 1, 8000, 8)),
                data)), "unsupported WAV encoding: mu-law");
        assertContains(failure(AudioTestTools.riff(AudioTestTools.chunk("fmt ",
                AudioTestTools.fmtExtensible(7, 1, 8000, 8)), data)), "unsupported WAV encoding: mu-law");
        byte[] fmt12 = AudioTestTools.fmt(1, 1, 16000, 12);
        ByteBuffer.wrap(fmt12).order(ByteOrder.LITTLE_ENDIAN).putShort(12, (short) 2);
        assertContains(failure(AudioTestTools.riff(AudioTestTools.chunk("fmt ", fmt12), data)),
                "unsupported WAV encoding: 12-bit PCM", "accepted:");
        assertContains(failure(AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(2, 1, 8000, 4)),
                data)), "unsupported WAV encoding: format tag 0x0002");
        assertContains(failure(AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(3, 1, 8000, 16)),
                data)), "unsupported WAV encoding: 16-bit float");
    }

    @ParameterizedTest
    @ValueSource(floats = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})
    void nonFiniteFloatSamples(float bad) {
        float[] x = new float[1000];
        x[517] = bad;
        assertContains(failure(AudioTestTools.wav(Enc.FLOAT32, 16000, x)), "invalid float WAV: sample 517",
                "accepted: finite samples");
        double[][] d = new double[1000][1];
        d[3][0] = bad;
        assertContains(failure(AudioTestTools.wav(Enc.FLOAT64, 16000, d)), "invalid float WAV: sample 3");
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, 1L, 999L, 768_001L, 4_000_000_000L})
    void absurdSampleRates(long rate) {
        byte[] fmt = AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 1, rate, 16));
        String m = failure(AudioTestTools.riff(fmt, AudioTestTools.chunk("data", new byte[2000])));
        assertContains(m, "unsupported sample rate: " + rate + " Hz", "accepted: 1000..768000 Hz");
    }

    @Test
    void channelLimits() {
        byte[] zero = AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 0, 16000, 16)),
                AudioTestTools.chunk("data", new byte[64]));
        assertContains(failure(zero), "0 channels");
        byte[] many = AudioTestTools.riff(AudioTestTools.chunk("fmt ", AudioTestTools.fmt(1, 65, 16000, 16)),
                AudioTestTools.chunk("data", new byte[65 * 2 * 10]));
        assertContains(failure(many), "unsupported channel count: 65", "accepted: 1..64");
    }

    @Test
    void longerThanDefaultMaximumKnownFromHeader() {
        // 601 s of 8-bit audio at 1 kHz: rejected from the header before any feature is made
        byte[] wav = AudioTestTools.wav(Enc.U8, 1000, new float[601_000]);
        assertContains(failure(wav), "audio too long", "at most 600.0 s");
    }

    @Test
    void longerThanMaximumWhileStreaming() {
        // data size unknown (streaming writer): the limit is enforced while reading
        float[] x = new float[16000 * 5];
        byte[] fmt = AudioTestTools.chunk("fmt ", AudioTestTools.fmt(3, 1, 16000, 32));
        double[][] d = new double[x.length][1];
        byte[] wav = AudioTestTools.riff(fmt, AudioTestTools.chunk("data",
                AudioTestTools.sampleBytes(Enc.FLOAT32, d), 0xFFFFFFFFL));
        assertContains(failure(wav, AudioLimits.DEFAULT.withMaxDurationSeconds(2.0)), "audio too long",
                "at most 2.0 s");
        // within the limit it works
        try (AudioStream s = AudioDecoder.open(wav)) {
            assertEquals(5.0, FeatureExtractor.extract(s, AudioLimits.DEFAULT).durationSeconds(), 1e-9);
        }
    }

    @Test
    void limitsValidateTheirFields() {
        assertThrows(IllegalArgumentException.class, () -> new AudioLimits(0, 1000, 768000, 64));
        assertThrows(IllegalArgumentException.class, () -> new AudioLimits(600, 2000, 1000, 64));
        assertThrows(IllegalArgumentException.class, () -> new AudioLimits(600, 1000, 768000, 0));
        assertEquals(600.0, AudioLimits.DEFAULT.maxDurationSeconds());
        assertEquals(9_600_000L, AudioLimits.DEFAULT.maxSamples16k());
    }
}
