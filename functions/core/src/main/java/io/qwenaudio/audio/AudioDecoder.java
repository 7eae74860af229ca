package io.qwenaudio.audio;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens WAV, FLAC or MP3 audio as a streaming {@link AudioStream}. The format is detected from the first bytes
 * (RIFF/WAVE, {@code fLaC}, ID3 tag or MPEG frame sync), never from the file name. Nothing is decoded ahead
 * beyond one block, so long files are not expanded in memory.
 */
public final class AudioDecoder {

    private static final int MAGIC_BYTES = 12;

    private AudioDecoder() {
    }

    /** Opens a file with {@link AudioLimits#DEFAULT}. */
    public static AudioStream open(Path file) throws IOException {
        return open(file, AudioLimits.DEFAULT);
    }

    /** Opens in-memory audio bytes with {@link AudioLimits#DEFAULT}. */
    public static AudioStream open(byte[] bytes) {
        return open(bytes, AudioLimits.DEFAULT);
    }

    /**
     * Opens a file; sample rate and channel count are checked against {@code limits}.
     *
     * @throws InvalidAudioException if the content is not accepted audio
     */
    public static AudioStream open(Path file, AudioLimits limits) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            return open(in, limits);
        } catch (RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Opens in-memory audio bytes; sample rate and channel count are checked against {@code limits}. */
    public static AudioStream open(byte[] bytes, AudioLimits limits) {
        return open(new ByteArrayInputStream(bytes), limits);
    }

    /**
     * Opens audio from a stream that supports {@code mark/reset} (wrap others in a {@link BufferedInputStream}).
     * The returned stream closes {@code in}.
     */
    public static AudioStream open(InputStream in, AudioLimits limits) {
        if (!in.markSupported()) {
            in = new BufferedInputStream(in, 1 << 16);
        }
        byte[] magic;
        try {
            in.mark(MAGIC_BYTES);
            magic = in.readNBytes(MAGIC_BYTES);
            in.reset();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (magic.length == 0) {
            throw new InvalidAudioException("empty audio input (0 bytes); " + InvalidAudioException.ACCEPTED_FORMATS);
        }
        if (startsWith(magic, "RIFF") || startsWith(magic, "RIFX") || startsWith(magic, "RF64")) {
            if (!startsWith(magic, "RIFF")) {
                throw new InvalidAudioException("unsupported WAV container: "
                        + new String(magic, 0, 4, StandardCharsets.US_ASCII)
                        + "; accepted: little-endian RIFF/WAVE");
            }
            if (magic.length < MAGIC_BYTES || !"WAVE".equals(ascii(magic, 8, 4))) {
                throw new InvalidAudioException("truncated or non-WAVE RIFF header; "
                        + InvalidAudioException.ACCEPTED_FORMATS);
            }
            return WavStream.open(in, limits);
        }
        if (startsWith(magic, "fLaC")) {
            return FlacStream.open(in, limits);
        }
        if (startsWith(magic, "ID3") || isMpegSync(magic)) {
            return Mp3Stream.open(in, limits);
        }
        throw new InvalidAudioException("unrecognised audio format (first bytes " + hex(magic)
                + "); " + InvalidAudioException.ACCEPTED_FORMATS);
    }

    /** MPEG audio frame header: 11 sync bits, a valid version, layer III..I and a valid bitrate/rate. */
    private static boolean isMpegSync(byte[] b) {
        if (b.length < 4) {
            return false;
        }
        int h = ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
        boolean sync = (h >>> 21) == 0x7FF;
        int version = (h >>> 19) & 3;
        int layer = (h >>> 17) & 3;
        int bitrate = (h >>> 12) & 0xF;
        int rate = (h >>> 10) & 3;
        return sync && version != 1 && layer != 0 && bitrate != 0xF && rate != 3;
    }

    private static boolean startsWith(byte[] b, String s) {
        return b.length >= s.length() && ascii(b, 0, s.length()).equals(s);
    }

    static String ascii(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        for (int i = off; i < off + len && i < b.length; i++) {
            sb.append((char) (b[i] & 0xFF));
        }
        return sb.toString();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }
}
