package io.qwenaudio.audio;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.jflac.ChannelData;
import org.jflac.FLACDecoder;
import org.jflac.frame.Frame;
import org.jflac.metadata.StreamInfo;

/** Streaming FLAC reader on jflac: one FLAC frame (a few thousand samples) is decoded at a time. */
final class FlacStream implements AudioStream {

    private final InputStream in;
    private final FLACDecoder decoder;
    private final int sampleRate;
    private final int channels;
    private final int bits;
    private final long frames;
    private float[] block = new float[0];
    private int blockPos;
    private int blockLen;
    private boolean eof;

    private FlacStream(InputStream in, FLACDecoder decoder, StreamInfo info) {
        this.in = in;
        this.decoder = decoder;
        this.sampleRate = info.getSampleRate();
        this.channels = info.getChannels();
        this.bits = info.getBitsPerSample();
        this.frames = info.getTotalSamples() > 0 ? info.getTotalSamples() : -1;
    }

    static FlacStream open(InputStream in, AudioLimits limits) {
        FLACDecoder decoder = new FLACDecoder(in);
        StreamInfo info;
        try {
            decoder.readMetadata();
            info = decoder.getStreamInfo();
        } catch (IOException | RuntimeException e) {
            throw new InvalidAudioException("invalid FLAC header (" + e.getClass().getSimpleName()
                    + "); expected a complete STREAMINFO block");
        }
        if (info == null) {
            throw new InvalidAudioException("invalid FLAC: no STREAMINFO block");
        }
        if (info.getBitsPerSample() < 4 || info.getBitsPerSample() > 32) {
            throw new InvalidAudioException("unsupported FLAC bit depth " + info.getBitsPerSample()
                    + "; accepted: 4..32 bits");
        }
        limits.check(info.getSampleRate(), info.getChannels());
        return new FlacStream(in, decoder, info);
    }

    @Override
    public int read(float[] mono, int off, int len) {
        while (blockPos >= blockLen) {
            if (eof || !nextFrame()) {
                eof = true;
                return -1;
            }
        }
        int n = Math.min(len, blockLen - blockPos);
        System.arraycopy(block, blockPos, mono, off, n);
        blockPos += n;
        return n;
    }

    private boolean nextFrame() {
        Frame frame;
        try {
            frame = decoder.readNextFrame();
        } catch (IOException e) {
            // jflac signals a truncated last frame as EOF: end the stream there
            return false;
        } catch (RuntimeException e) {
            throw new InvalidAudioException("corrupt FLAC data (" + e.getClass().getSimpleName() + ")");
        }
        if (frame == null) {
            return false;
        }
        int n = frame.header.blockSize;
        int ch = frame.header.channels;
        double scale = 1.0 / (1L << (frame.header.bitsPerSample - 1)) / ch;
        ChannelData[] data = decoder.getChannelData();
        if (block.length < n) {
            block = new float[n];
        }
        for (int i = 0; i < n; i++) {
            long sum = 0;
            for (int c = 0; c < ch; c++) {
                sum += data[c].getOutput()[i];
            }
            block[i] = (float) (sum * scale);
        }
        blockPos = 0;
        blockLen = n;
        return true;
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
        return "FLAC " + bits + "-bit";
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
