package io.qwenaudio.audio;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import javazoom.jl.decoder.Bitstream;
import javazoom.jl.decoder.BitstreamException;
import javazoom.jl.decoder.Decoder;
import javazoom.jl.decoder.Header;
import javazoom.jl.decoder.JavaLayerException;
import javazoom.jl.decoder.SampleBuffer;

/**
 * Streaming MPEG-1/2/2.5 audio (MP3) reader on jlayer: one frame (576 or 1152 samples) at a time. When the
 * first frame is a Xing/Info frame with a LAME tag, playback is gapless as in ffmpeg: the Info frame, the
 * encoder delay plus the 529-sample decoder delay are dropped at the start and the encoder padding at the end.
 * Without such a tag the decoder's raw timeline is returned.
 */
final class Mp3Stream implements AudioStream {

    private final InputStream in;
    private final Bitstream bitstream;
    private final Decoder decoder = new Decoder();
    private final int sampleRate;
    private final int channels;
    private final String encoding;
    private Header pending;
    private final float[] block = new float[2304];
    private int blockPos;
    private int blockLen;
    private boolean eof;
    private long skip;           // samples still to drop at the start
    private long remaining = -1; // samples still to return, -1 if unknown

    private Mp3Stream(InputStream in, Bitstream bitstream, Header first) {
        this.in = in;
        this.bitstream = bitstream;
        this.pending = first;
        this.sampleRate = first.frequency();
        this.channels = first.mode() == Header.SINGLE_CHANNEL ? 1 : 2;
        this.encoding = "MP3 (" + first.version_string() + " " + first.layer_string() + ")";
    }

    static Mp3Stream open(InputStream in, AudioLimits limits) {
        Gapless gapless = Gapless.read(in);
        Bitstream bitstream = new Bitstream(in);
        Header first;
        try {
            first = bitstream.readFrame();
        } catch (BitstreamException | RuntimeException e) {
            throw new InvalidAudioException("invalid MP3 data (" + e.getClass().getSimpleName()
                    + "); expected MPEG audio frames");
        }
        if (first == null) {
            throw new InvalidAudioException("invalid MP3: no MPEG audio frame found; "
                    + InvalidAudioException.ACCEPTED_FORMATS);
        }
        limits.check(first.frequency(), first.mode() == Header.SINGLE_CHANNEL ? 1 : 2);
        Mp3Stream s = new Mp3Stream(in, bitstream, first);
        if (gapless != null) {
            s.skip = gapless.samplesPerFrame + gapless.delay + DECODER_DELAY;
            if (gapless.frames > 0) {
                s.remaining = Math.max(0, (long) gapless.frames * gapless.samplesPerFrame - gapless.delay
                        - gapless.padding);
            }
        }
        return s;
    }

    /** Delay of the MP3 synthesis filterbank, in samples (as LAME and ffmpeg count it). */
    private static final int DECODER_DELAY = 529;

    /** Encoder delay and padding from a LAME tag in a Xing/Info first frame. */
    record Gapless(int samplesPerFrame, int frames, int delay, int padding) {

        private static final int PROBE = 4096;

        /** Looks at the start of the stream (mark/reset, nothing consumed); null if there is no LAME tag. */
        static Gapless read(InputStream in) {
            try {
                in.mark(10);
                byte[] id3 = in.readNBytes(10);
                in.reset();
                long skip = 0;
                if (id3.length == 10 && id3[0] == 'I' && id3[1] == 'D' && id3[2] == '3') {
                    skip = 10 + (((id3[6] & 0x7F) << 21) | ((id3[7] & 0x7F) << 14) | ((id3[8] & 0x7F) << 7)
                            | (id3[9] & 0x7F)) + ((id3[5] & 0x10) != 0 ? 10 : 0);
                }
                if (skip > (1 << 24)) {
                    return null; // huge tag: do not buffer it
                }
                in.mark((int) skip + PROBE);
                byte[] b;
                try {
                    long skipped = in.skip(skip);
                    b = skipped == skip ? in.readNBytes(PROBE) : new byte[0];
                } finally {
                    in.reset();
                }
                return parse(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static Gapless parse(byte[] b) {
            if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xE0) != 0xE0) {
                return null;
            }
            int version = (b[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
            int layer = (b[1] >> 1) & 3;   // 1: layer III
            boolean crc = (b[1] & 1) == 0;
            boolean mono = ((b[3] >> 6) & 3) == 3;
            if (layer != 1 || version == 1) {
                return null;
            }
            boolean mpeg1 = version == 3;
            int sideInfo = mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
            int x = 4 + (crc ? 2 : 0) + sideInfo;
            if (b.length < x + 8) {
                return null;
            }
            String tag = AudioDecoder.ascii(b, x, 4);
            if (!tag.equals("Xing") && !tag.equals("Info")) {
                return null;
            }
            int flags = be32(b, x + 4);
            int p = x + 8;
            int frames = -1;
            if ((flags & 1) != 0) {
                frames = be32(b, p);
                p += 4;
            }
            if ((flags & 2) != 0) {
                p += 4;
            }
            if ((flags & 4) != 0) {
                p += 100;
            }
            if ((flags & 8) != 0) {
                p += 4;
            }
            if (b.length < p + 24) {
                return null;
            }
            String encoder = AudioDecoder.ascii(b, p, 4);
            if (!encoder.equals("LAME") && !encoder.equals("Lavf") && !encoder.equals("Lavc")) {
                return null;
            }
            int d = ((b[p + 21] & 0xFF) << 16) | ((b[p + 22] & 0xFF) << 8) | (b[p + 23] & 0xFF);
            int spf = mpeg1 ? 1152 : 576;
            return new Gapless(spf, frames, d >>> 12, d & 0xFFF);
        }

        private static int be32(byte[] b, int p) {
            return ((b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
        }
    }

    @Override
    public int read(float[] mono, int off, int len) {
        if (remaining == 0) {
            eof = true;
            return -1;
        }
        while (blockPos >= blockLen) {
            if (eof || !nextFrame()) {
                eof = true;
                return -1;
            }
            int drop = (int) Math.min(skip, blockLen);
            blockPos = drop;
            skip -= drop;
        }
        int n = Math.min(len, blockLen - blockPos);
        if (remaining >= 0) {
            n = (int) Math.min(n, remaining);
            remaining -= n;
        }
        System.arraycopy(block, blockPos, mono, off, n);
        blockPos += n;
        return n;
    }

    private boolean nextFrame() {
        try {
            Header h = pending != null ? pending : bitstream.readFrame();
            pending = null;
            if (h == null) {
                return false;
            }
            SampleBuffer out = (SampleBuffer) decoder.decodeFrame(h, bitstream);
            bitstream.closeFrame();
            short[] s = out.getBuffer();
            int ch = out.getChannelCount();
            int n = out.getBufferLength() / ch;
            for (int i = 0; i < n; i++) {
                int sum = 0;
                for (int c = 0; c < ch; c++) {
                    sum += s[i * ch + c];
                }
                block[i] = sum / (32768.0f * ch);
            }
            blockPos = 0;
            blockLen = n;
            return true;
        } catch (JavaLayerException | ArrayIndexOutOfBoundsException e) {
            // a damaged or truncated last frame ends the stream, as other decoders do
            return false;
        }
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
        return encoding;
    }

    @Override
    public long frames() {
        return -1; // a count from the Xing tag is only a claim; the stream is read to its end
    }

    @Override
    public void close() {
        try {
            bitstream.close();
        } catch (BitstreamException e) {
            // ignore: closing below
        }
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
