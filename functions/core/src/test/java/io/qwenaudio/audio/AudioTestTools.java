package io.qwenaudio.audio;

import static org.junit.jupiter.api.Assertions.fail;

import io.qwenaudio.testtools.ExternalTool;
import io.qwenaudio.tensor.Npy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Shared utilities for the audio tests: running external tools (sox, espeak-ng, ffmpeg, python3+numpy; each test
 * first calls {@link ExternalTool#require}) and a WAV writer.
 */
final class AudioTestTools {

    static final Path SCRIPT = Path.of("src", "test", "python", "whisper_features.py");
    private static final String INSTALL =
            "; install with: apt-get install -y sox libsox-fmt-all espeak-ng ffmpeg python3 python3-numpy";

    private AudioTestTools() {
    }

    /** Runs a command, failing the test with its output when it exits non-zero. Returns stdout+stderr. */
    static String run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("timed out: " + String.join(" ", cmd));
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                fail("'" + String.join(" ", cmd) + "' exited " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException | InterruptedException e) {
            fail("cannot run '" + String.join(" ", cmd) + "': " + e.getMessage() + INSTALL);
            return "";
        }
    }

    /** Speech made by espeak-ng (22050 Hz, 16-bit mono WAV). */
    static Path speech(Path dir, String name, String text) {
        ExternalTool.ESPEAK_NG.require();
        Path wav = dir.resolve(name + ".wav");
        run("espeak-ng", "-w", wav.toString(), text);
        return wav;
    }

    /** Decodes a whole file to mono floats at its own rate. */
    static float[] decodeAll(Path file) throws IOException {
        try (AudioStream s = AudioDecoder.open(file)) {
            return readAll(s);
        }
    }

    static float[] readAll(AudioStream s) {
        float[] out = new float[1 << 16];
        int n = 0;
        while (true) {
            if (n == out.length) {
                out = Arrays.copyOf(out, out.length * 2);
            }
            int r = s.read(out, n, Math.min(1000, out.length - n));
            if (r < 0) {
                return Arrays.copyOf(out, n);
            }
            n += r;
        }
    }

    static int sampleRateOf(Path file) throws IOException {
        try (AudioStream s = AudioDecoder.open(file)) {
            return s.sampleRate();
        }
    }

    static void writeNpy(Path file, float[] data) throws IOException {
        Npy.write(file, data, data.length);
    }

    /** Sample encodings the test WAV writer can produce. */
    enum Enc {
        U8(1, 8), PCM16(1, 16), PCM24(1, 24), PCM32(1, 32), FLOAT32(3, 32), FLOAT64(3, 64);

        final int tag;
        final int bits;

        Enc(int tag, int bits) {
            this.tag = tag;
            this.bits = bits;
        }
    }

    /** Quantises a sample in [-1, 1) the way the writer stores it, then reads it back as the decoder should. */
    static double quantised(Enc enc, double v) {
        return switch (enc) {
            case U8 -> (Math.max(0, Math.min(255, Math.round(v * 128) + 128)) - 128) / 128.0;
            case PCM16 -> Math.max(-32768, Math.min(32767, Math.round(v * 32768))) / 32768.0;
            case PCM24 -> Math.max(-8388608, Math.min(8388607, Math.round(v * 8388608))) / 8388608.0;
            case PCM32 -> Math.max(-2147483648L, Math.min(2147483647L, Math.round(v * 2147483648.0))) / 2147483648.0;
            case FLOAT32 -> (float) v;
            case FLOAT64 -> v;
        };
    }

    /** Frame data: {@code samples[frame][channel]}. */
    static byte[] sampleBytes(Enc enc, double[][] samples) {
        int ch = samples.length == 0 ? 1 : samples[0].length;
        ByteBuffer b = ByteBuffer.allocate(samples.length * ch * enc.bits / 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double[] frame : samples) {
            for (double v : frame) {
                switch (enc) {
                    case U8 -> b.put((byte) (Math.round(quantised(enc, v) * 128) + 128));
                    case PCM16 -> b.putShort((short) Math.round(quantised(enc, v) * 32768));
                    case PCM24 -> {
                        int x = (int) Math.round(quantised(enc, v) * 8388608);
                        b.put((byte) x).put((byte) (x >> 8)).put((byte) (x >> 16));
                    }
                    case PCM32 -> b.putInt((int) Math.round(quantised(enc, v) * 2147483648.0));
                    case FLOAT32 -> b.putFloat((float) v);
                    case FLOAT64 -> b.putDouble(v);
                }
            }
        }
        return b.array();
    }

    /** A RIFF chunk: id, little-endian size, body and a pad byte when the size is odd. */
    static byte[] chunk(String id, byte[] body) {
        return chunk(id, body, body.length);
    }

    static byte[] chunk(String id, byte[] body, long declaredSize) {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length + (body.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(id.getBytes(StandardCharsets.US_ASCII)).putInt((int) declaredSize).put(body);
        return b.array();
    }

    /** A plain (16-byte) fmt chunk body. */
    static byte[] fmt(int tag, int channels, long rate, int bits) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        int align = channels * bits / 8;
        b.putShort((short) tag).putShort((short) channels).putInt((int) rate).putInt((int) (rate * align))
                .putShort((short) align).putShort((short) bits);
        return b.array();
    }

    /** A WAVE_FORMAT_EXTENSIBLE (40-byte) fmt chunk body with the given sub-format tag. */
    static byte[] fmtExtensible(int subTag, int channels, long rate, int bits) {
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        b.put(fmt(0xFFFE, channels, rate, bits)).putShort((short) 22).putShort((short) bits).putInt(0)
                .putShort((short) subTag)
                .put(new byte[] {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, (byte) 0x80, 0x00, 0x00, (byte) 0xAA, 0x00,
                        0x38, (byte) 0x9B, 0x71});
        return b.array();
    }

    /** RIFF/WAVE file from chunks. */
    static byte[] riff(byte[]... chunks) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes("WAVE".getBytes(StandardCharsets.US_ASCII));
        for (byte[] c : chunks) {
            body.writeBytes(c);
        }
        byte[] b = body.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(8 + b.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(b.length).put(b);
        return out.array();
    }

    /** A simple WAV file of mono float samples. */
    static byte[] wav(Enc enc, int rate, float[] mono) {
        double[][] s = new double[mono.length][1];
        for (int i = 0; i < mono.length; i++) {
            s[i][0] = mono[i];
        }
        return riff(chunk("fmt ", fmt(enc.tag, 1, rate, enc.bits)), chunk("data", sampleBytes(enc, s)));
    }

    /** A WAV file of interleaved frames {@code samples[frame][channel]}. */
    static byte[] wav(Enc enc, int rate, double[][] samples) {
        return riff(chunk("fmt ", fmt(enc.tag, samples[0].length, rate, enc.bits)),
                chunk("data", sampleBytes(enc, samples)));
    }

    /** Sum of sines of the given frequencies (Hz), amplitude {@code amp} each. */
    static float[] tones(int rate, double seconds, double amp, double... freqs) {
        int n = (int) Math.round(rate * seconds);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double v = 0;
            for (double f : freqs) {
                v += amp * Math.sin(2 * Math.PI * f * i / rate + f);
            }
            x[i] = (float) v;
        }
        return x;
    }

    static List<String> cmd(String... parts) {
        return new ArrayList<>(List.of(parts));
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            fail("length differs: " + a.length + " vs " + b.length);
        }
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static void writeBytes(Path p, byte[] b) throws IOException {
        Files.write(p, b);
    }
}
