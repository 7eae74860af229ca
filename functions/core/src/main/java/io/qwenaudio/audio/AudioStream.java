package io.qwenaudio.audio;

/**
 * Decoded audio read piece by piece as mono float samples in [-1, 1] at the stream's own sample rate; channels
 * are averaged. Obtained from {@link AudioDecoder}; {@link Resampler#to16k(AudioStream)} converts the rate.
 */
public interface AudioStream extends AutoCloseable {

    /** Samples per second of what {@link #read} returns. */
    int sampleRate();

    /** Channels in the source (before the downmix to mono). */
    int channels();

    /** Human-readable description of the source encoding, e.g. {@code "WAV 16-bit PCM"}. */
    String encoding();

    /** Number of mono samples the stream will return, or -1 if not known in advance. */
    long frames();

    /**
     * Reads up to {@code len} mono samples into {@code mono[off..]}.
     *
     * @return number of samples read (at least 1 when {@code len > 0}), or -1 at the end of the stream
     * @throws InvalidAudioException if the data turn out to be corrupt (e.g. NaN samples)
     * @throws java.io.UncheckedIOException on an I/O error of the underlying source
     */
    int read(float[] mono, int off, int len);

    @Override
    void close();
}
