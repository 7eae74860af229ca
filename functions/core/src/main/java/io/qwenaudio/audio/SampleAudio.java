package io.qwenaudio.audio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Deterministic synthetic clips as 16-bit PCM WAV files: the sample of {@code qwen-audio demo}, the app's start-up
 * request and the test fixtures. Nothing is random, so the same call gives the same bytes everywhere.
 */
public final class SampleAudio {

    /** One sample of channel {@code c} at frame {@code i}, in [-1, 1] (clipped when written). */
    @FunctionalInterface
    public interface Signal {
        double sample(int i, int c);
    }

    private SampleAudio() {
    }

    /** A voiced tone gliding 120 -> 240 Hz with 20 harmonics and 3 "syllables" a second; channel 2 is 0.8x channel 1. */
    public static byte[] voicedGlide(int rate, double seconds, int channels) {
        int frames = frames(rate, seconds);
        double[] mono = new double[frames];
        double phase = 0;
        for (int i = 0; i < frames; i++) {
            double t = (double) i / rate;
            phase += 2 * Math.PI * (120 + 120 * (t / seconds)) / rate;
            double syllable = 0.5 * (1 - Math.cos(2 * Math.PI * t * 3));
            double v = 0;
            for (int h = 1; h <= 20; h++) v += Math.sin(h * phase) / h;
            mono[i] = v * 0.15 * syllable;
        }
        return wav(rate, channels, frames, (i, c) -> mono[i] * (c == 0 ? 1.0 : 0.8));
    }

    /** A mono tone at {@code baseHz} with a slow vibrato and two partials. */
    public static byte[] vibratoTone(int rate, double seconds, double baseHz) {
        int frames = frames(rate, seconds);
        double[] mono = new double[frames];
        double phase = 0;
        for (int i = 0; i < frames; i++) {
            double t = i / (double) rate;
            phase += 2 * Math.PI * baseHz * (1 + 0.05 * Math.sin(2 * Math.PI * 0.5 * t)) / rate;
            mono[i] = 0.4 * Math.sin(phase) + 0.2 * Math.sin(2.5 * phase) + 0.05 * Math.sin(7 * phase);
        }
        return wav(rate, 1, frames, (i, c) -> mono[i]);
    }

    /** A canonical 44-byte-header PCM16 WAV of {@code frames} frames of {@code channels} interleaved channels. */
    public static byte[] wav(int rate, int channels, int frames, Signal signal) {
        if (rate <= 0 || channels <= 0 || frames < 0) {
            throw new IllegalArgumentException("rate " + rate + ", channels " + channels + ", frames " + frames);
        }
        int data = Math.multiplyExact(Math.multiplyExact(frames, channels), 2);
        ByteBuffer b = ByteBuffer.allocate(Math.addExact(44, data)).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + data).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) channels)
                .putInt(rate).putInt(rate * channels * 2).putShort((short) (channels * 2)).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(data);
        for (int i = 0; i < frames; i++) {
            for (int c = 0; c < channels; c++) {
                b.putShort((short) Math.round(Math.max(-1, Math.min(1, signal.sample(i, c))) * 32767));
            }
        }
        return b.array();
    }

    private static int frames(int rate, double seconds) {
        if (!(seconds >= 0) || rate * seconds > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("seconds " + seconds + " at " + rate + " Hz");
        }
        return (int) Math.round(rate * seconds);
    }
}
