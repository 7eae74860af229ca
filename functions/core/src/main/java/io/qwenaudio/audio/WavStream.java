package io.qwenaudio.audio;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Streaming RIFF/WAVE reader: PCM 8 (unsigned)/16/24/32 bit, IEEE float 32/64 bit, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count (averaged to mono). Unknown chunks are skipped; a data size of 0 or
 * 0xFFFFFFFF (streaming writers) means "read to the end".
 */
final class WavStream implements AudioStream {

    private static final int TAG_PCM = 1;
    private static final int TAG_FLOAT = 3;
    private static final int TAG_ALAW = 6;
    private static final int TAG_MULAW = 7;
    private static final int TAG_EXTENSIBLE = 0xFFFE;
    private static final int BLOCK_FRAMES = 4096;

    private final InputStream in;
    private final int sampleRate;
    private final int channels;
    private final int bits;
    private final boolean isFloat;
    private final int blockAlign;
    private final long frames;
    private long bytesLeft; // -1: to end of stream
    private final byte[] buf;
    private long sampleIndex;

    private WavStream(InputStream in, int sampleRate, int channels, int bits, boolean isFloat, long dataBytes) {
        this.in = in;
        this.sampleRate = sampleRate;
        this.channels = channels;
        this.bits = bits;
        this.isFloat = isFloat;
        this.blockAlign = channels * (bits / 8);
        this.bytesLeft = dataBytes;
        this.frames = dataBytes < 0 ? -1 : dataBytes / blockAlign;
        this.buf = new byte[BLOCK_FRAMES * blockAlign];
    }

    static WavStream open(InputStream in, AudioLimits limits) {
        try {
            readFully(in, 12, "RIFF header");
            int tag = -1;
            int channels = 0;
            long rate = 0;
            int bits = 0;
            int blockAlign = 0;
            while (true) {
                byte[] hdr = in.readNBytes(8);
                if (hdr.length < 8) {
                    throw new InvalidAudioException(tag < 0 ? "truncated WAV: no fmt chunk; "
                            + InvalidAudioException.ACCEPTED_FORMATS : "truncated WAV: no data chunk");
                }
                String id = AudioDecoder.ascii(hdr, 0, 4);
                long size = u32(hdr, 4);
                if (id.equals("fmt ")) {
                    if (size < 16 || size > 1024) {
                        throw new InvalidAudioException("invalid WAV fmt chunk size " + size + "; expected 16..1024");
                    }
                    byte[] f = readFully(in, (int) size, "fmt chunk");
                    skipPad(in, size);
                    tag = u16(f, 0);
                    channels = u16(f, 2);
                    rate = u32(f, 4);
                    blockAlign = u16(f, 12);
                    bits = u16(f, 14);
                    if (tag == TAG_EXTENSIBLE) {
                        if (size < 40) {
                            throw new InvalidAudioException("invalid WAVE_FORMAT_EXTENSIBLE fmt chunk: " + size
                                    + " bytes; expected 40");
                        }
                        tag = u16(f, 24); // first two bytes of the sub-format GUID
                    }
                } else if (id.equals("data")) {
                    if (tag < 0) {
                        throw new InvalidAudioException("invalid WAV: data chunk before fmt chunk");
                    }
                    checkFormat(tag, channels, rate, bits, blockAlign, limits);
                    long dataBytes = (size == 0 || size == 0xFFFFFFFFL) ? -1 : size;
                    return new WavStream(in, (int) rate, channels, bits, tag == TAG_FLOAT, dataBytes);
                } else {
                    long skip = size + (size & 1);
                    long skipped = in.skip(skip);
                    while (skipped < skip) {
                        if (in.read() < 0) {
                            throw new InvalidAudioException("truncated WAV: chunk '" + printable(id)
                                    + "' runs past the end and no data chunk was found");
                        }
                        skipped++;
                        skipped += in.skip(skip - skipped);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkFormat(int tag, int channels, long rate, int bits, int blockAlign, AudioLimits limits) {
        String accepted = "; " + InvalidAudioException.ACCEPTED_FORMATS;
        switch (tag) {
            case TAG_PCM -> {
                if (bits != 8 && bits != 16 && bits != 24 && bits != 32) {
                    throw new InvalidAudioException("unsupported WAV encoding: " + bits + "-bit PCM" + accepted);
                }
            }
            case TAG_FLOAT -> {
                if (bits != 32 && bits != 64) {
                    throw new InvalidAudioException("unsupported WAV encoding: " + bits + "-bit float" + accepted);
                }
            }
            case TAG_ALAW -> throw new InvalidAudioException("unsupported WAV encoding: A-law" + accepted);
            case TAG_MULAW -> throw new InvalidAudioException("unsupported WAV encoding: mu-law" + accepted);
            default -> throw new InvalidAudioException(String.format(
                    "unsupported WAV encoding: format tag 0x%04x%s", tag, accepted));
        }
        if (channels == 0) {
            throw new InvalidAudioException("invalid WAV: 0 channels; accepted: 1.." + limits.maxChannels());
        }
        limits.check(rate, channels);
        if (blockAlign != channels * (bits / 8)) {
            throw new InvalidAudioException("invalid WAV: block align " + blockAlign + " does not match "
                    + channels + " channels x " + bits + " bits; expected " + channels * (bits / 8));
        }
    }

    @Override
    public int read(float[] mono, int off, int len) {
        if (len <= 0) {
            return 0;
        }
        int want = Math.min(len, BLOCK_FRAMES);
        long wantBytes = (long) want * blockAlign;
        if (bytesLeft >= 0) {
            wantBytes = Math.min(wantBytes, bytesLeft - bytesLeft % blockAlign);
        }
        if (wantBytes <= 0) {
            return -1;
        }
        int got;
        try {
            got = in.readNBytes(buf, 0, (int) wantBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int n = got / blockAlign; // a trailing partial frame (truncated file) is dropped
        if (n == 0) {
            bytesLeft = 0;
            return -1;
        }
        if (bytesLeft >= 0) {
            bytesLeft -= got;
        }
        convert(n, mono, off);
        return n;
    }

    /** Interleaved little-endian frames in {@code buf} -> mono floats (channel average). */
    private void convert(int n, float[] mono, int off) {
        int bps = bits / 8;
        float inv = 1.0f / channels;
        int p = 0;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int c = 0; c < channels; c++, p += bps) {
                double v;
                if (isFloat) {
                    if (bits == 32) {
                        v = Float.intBitsToFloat(le32(buf, p));
                    } else {
                        v = Double.longBitsToDouble((le32(buf, p) & 0xFFFFFFFFL) | ((long) le32(buf, p + 4) << 32));
                    }
                    if (!Double.isFinite(v)) {
                        throw new InvalidAudioException("invalid float WAV: sample " + (sampleIndex + i)
                                + " is " + v + "; accepted: finite samples");
                    }
                } else {
                    v = switch (bits) {
                        case 8 -> ((buf[p] & 0xFF) - 128) / 128.0;
                        case 16 -> (short) ((buf[p] & 0xFF) | (buf[p + 1] << 8)) / 32768.0;
                        case 24 -> ((buf[p] & 0xFF) | ((buf[p + 1] & 0xFF) << 8) | (buf[p + 2] << 16)) / 8388608.0;
                        default -> le32(buf, p) / 2147483648.0;
                    };
                }
                sum += v;
            }
            mono[off + i] = channels == 1 ? (float) sum : (float) sum * inv;
        }
        sampleIndex += n;
    }

    private static int le32(byte[] b, int p) {
        return (b[p] & 0xFF) | ((b[p + 1] & 0xFF) << 8) | ((b[p + 2] & 0xFF) << 16) | (b[p + 3] << 24);
    }

    private static int u16(byte[] b, int p) {
        return (b[p] & 0xFF) | ((b[p + 1] & 0xFF) << 8);
    }

    private static long u32(byte[] b, int p) {
        return le32(b, p) & 0xFFFFFFFFL;
    }

    private static byte[] readFully(InputStream in, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new InvalidAudioException("truncated WAV: " + what + " needs " + n + " bytes, found " + b.length);
        }
        return b;
    }

    private static void skipPad(InputStream in, long size) throws IOException {
        if ((size & 1) != 0) {
            try {
                in.skipNBytes(1);
            } catch (EOFException e) {
                // pad byte missing at the very end: nothing follows anyway
            }
        }
    }

    private static String printable(String id) {
        return id.replaceAll("[^\\x20-\\x7e]", "?");
    }

    @Override
    public int sampleRate() {
        return sampleRate;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public String encoding() {
        return "WAV " + bits + "-bit " + (isFloat ? "float" : bits == 8 ? "unsigned PCM" : "PCM");
    }

    @Override
    public long frames() {
        return frames;
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
