package io.qwenaudio.audio;

import java.util.Arrays;

/**
 * Band-limited sample-rate converter: a Kaiser-windowed sinc evaluated in polyphase form for the exact rational
 * ratio L/M of the two rates. Linear phase with the delay compensated (output sample n sits at input time
 * n * inRate / outRate). Passband flat to 95% of the lower Nyquist frequency, stopband from the lower Nyquist
 * frequency on, about 100 dB attenuation. Streaming: {@link #process} may be called chunk by chunk and gives
 * the same samples as a single call followed by {@link #flush()}.
 *
 * <p>Hand-written because no maintained pure-Java band-limited resampler is on Maven Central.
 */
public final class Resampler {

    /** Stopband attenuation of the Kaiser design, dB. */
    private static final double ATTENUATION_DB = 100.0;
    /** Passband edge as a fraction of the lower of the two Nyquist frequencies. */
    private static final double PASSBAND = 0.95;
    /** Largest polyphase table kept in memory (phases x taps); larger ratios evaluate taps on the fly. */
    private static final long MAX_TABLE = 4_000_000;

    private final int inRate;
    private final int outRate;
    private final int up;    // L
    private final int down;  // M
    private final int half;  // taps on each side of the centre, in input samples
    private final double cutoff;  // cycles per input sample
    private final double beta;
    private final double i0Beta;
    private final float[][] table; // [phase][2*half] or null

    // streaming state: input history from absolute index bufStart
    private float[] buf = new float[8192];
    private long bufStart;     // absolute input index of buf[0]
    private int bufLen;
    private long inCount;      // input samples received
    private long outIndex;     // next output sample index
    private boolean flushed;

    public Resampler(int inputRate, int outputRate) {
        if (inputRate <= 0 || outputRate <= 0) {
            throw new IllegalArgumentException("sample rates must be positive, got " + inputRate + " -> " + outputRate);
        }
        this.inRate = inputRate;
        this.outRate = outputRate;
        int g = gcd(inputRate, outputRate);
        this.up = outputRate / g;
        this.down = inputRate / g;
        double nyq = Math.min(inputRate, outputRate) / 2.0;
        double pass = PASSBAND * nyq;
        double stop = nyq;
        this.cutoff = (pass + stop) / 2.0 / inputRate;
        double transition = (stop - pass) / inputRate; // cycles per input sample
        // Kaiser: taps N = (A - 8) / (2.285 * 2 pi * df)
        int n = (int) Math.ceil((ATTENUATION_DB - 8.0) / (2.285 * 2 * Math.PI * transition));
        this.half = Math.max(2, n / 2 + 1);
        this.beta = 0.1102 * (ATTENUATION_DB - 8.7);
        this.i0Beta = besselI0(beta);
        if (up == down) {
            this.table = null;
        } else if ((long) up * 2 * half <= MAX_TABLE) {
            table = new float[up][2 * half];
            for (int p = 0; p < up; p++) {
                fillTaps((double) p / up, table[p]);
            }
        } else {
            table = null;
        }
    }

    /** A resampler from {@code inputRate} to 16 kHz. */
    public static Resampler to16k(int inputRate) {
        return new Resampler(inputRate, FeatureExtractor.SAMPLE_RATE);
    }

    /** One-shot conversion; returns the input itself when the rates are equal. */
    public static float[] resample(float[] in, int inputRate, int outputRate) {
        if (inputRate == outputRate) {
            return in;
        }
        Resampler r = new Resampler(inputRate, outputRate);
        float[] a = r.process(in, 0, in.length);
        float[] b = r.flush();
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Wraps a stream so it reads at 16 kHz; returns {@code source} itself when it already is 16 kHz. */
    public static AudioStream to16k(AudioStream source) {
        if (source.sampleRate() == FeatureExtractor.SAMPLE_RATE) {
            return source;
        }
        return new ResampledStream(source, to16k(source.sampleRate()));
    }

    public int inputRate() {
        return inRate;
    }

    public int outputRate() {
        return outRate;
    }

    /** Number of output samples for {@code inputSamples} input samples: ceil(n * out / in). */
    public long outputLength(long inputSamples) {
        return (inputSamples * up + down - 1) / down;
    }

    /**
     * Feeds {@code len} input samples and returns the output samples that are now complete (maybe none).
     */
    public float[] process(float[] in, int off, int len) {
        float[] out = new float[maxOutput(len)];
        int n = process(in, off, len, out, 0);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** Ends the input and returns the remaining output samples. */
    public float[] flush() {
        float[] out = new float[maxOutput(0)];
        int n = flush(out, 0);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** Most output samples that {@link #process(float[], int, int, float[], int)} or {@link #flush(float[], int)}
     * can write for {@code len} more input samples. */
    public int maxOutput(int len) {
        long pendingOutputs = outputLength(inCount + len) - outIndex;
        return (int) Math.max(0, pendingOutputs);
    }

    /**
     * Allocation-free form of {@link #process(float[], int, int)}: writes the completed outputs to
     * {@code out[outOff..]} (room for {@link #maxOutput(int) maxOutput(len)} needed) and returns how many.
     */
    public int process(float[] in, int off, int len, float[] out, int outOff) {
        if (flushed) {
            throw new IllegalStateException("process() after flush()");
        }
        if (up == down) {
            System.arraycopy(in, off, out, outOff, len);
            inCount += len;
            outIndex += len;
            return len;
        }
        append(in, off, len);
        inCount += len;
        return produce(false, out, outOff);
    }

    /** Allocation-free form of {@link #flush()}; needs room for {@link #maxOutput(int) maxOutput(0)} samples. */
    public int flush(float[] out, int outOff) {
        if (flushed) {
            return 0;
        }
        flushed = true;
        if (up == down) {
            return 0;
        }
        return produce(true, out, outOff);
    }

    private void append(float[] in, int off, int len) {
        if (bufLen + len > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, bufLen + len));
        }
        System.arraycopy(in, off, buf, bufLen, len);
        bufLen += len;
    }

    /** Computes every output whose right-most tap is available (all remaining ones at the end). */
    private int produce(boolean atEnd, float[] out, int outOff) {
        // output n needs input up to floor(n*M/L) + half
        long last; // exclusive bound of outputs that can be made now
        if (atEnd) {
            last = outputLength(inCount);
        } else {
            long maxCentre = inCount - 1 - half; // centre index allowed
            last = maxCentre < 0 ? 0 : (maxCentre * up) / down + 1;
        }
        int count = (int) Math.max(0, last - outIndex);
        float[] taps = table == null ? scratchTaps() : null;
        for (int k = 0; k < count; k++, outIndex++) {
            long t = outIndex * down;
            long centre = t / up;
            int phase = (int) (t % up);
            float[] h;
            if (table != null) {
                h = table[phase];
            } else {
                fillTaps((double) phase / up, taps);
                h = taps;
            }
            // taps cover input indices centre - half + 1 .. centre + half
            long first = centre - half + 1;
            double acc = 0;
            if (first >= 0 && first + 2 * half <= inCount) {
                int base = (int) (first - bufStart);
                for (int j = 0; j < 2 * half; j++) {
                    acc += h[j] * buf[base + j];
                }
            } else {
                for (int j = 0; j < 2 * half; j++) {
                    long idx = first + j;
                    if (idx >= 0 && idx < inCount) {
                        acc += h[j] * buf[(int) (idx - bufStart)];
                    }
                }
            }
            out[outOff + k] = (float) acc;
        }
        // drop history no longer needed: next output's first tap
        long nextFirst = (outIndex * down) / up - half + 1;
        int drop = (int) Math.max(0, Math.min(bufLen, nextFirst - bufStart));
        if (drop > 0) {
            System.arraycopy(buf, drop, buf, 0, bufLen - drop);
            bufLen -= drop;
            bufStart += drop;
        }
        return count;
    }

    private float[] taps;

    private float[] scratchTaps() {
        if (taps == null) {
            taps = new float[2 * half];
        }
        return taps;
    }

    /** Taps for an output at fractional offset {@code frac} after input sample "centre". */
    private void fillTaps(double frac, float[] h) {
        double twoFc = 2 * cutoff;
        for (int j = 0; j < 2 * half; j++) {
            double x = (j - half + 1) - frac; // input index minus output time
            double s = x == 0 ? 1.0 : Math.sin(Math.PI * twoFc * x) / (Math.PI * twoFc * x);
            double r = x / half;
            double w = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
            h[j] = (float) (twoFc * s * w);
        }
    }

    private static double besselI0(double x) {
        double sum = 1;
        double term = 1;
        double q = x * x / 4;
        for (int k = 1; k < 200; k++) {
            term *= q / ((double) k * k);
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
        }
        return sum;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** An {@link AudioStream} view of another stream converted to 16 kHz. */
    private static final class ResampledStream implements AudioStream {
        private final AudioStream source;
        private final Resampler resampler;
        private final float[] chunk = new float[4096];
        private float[] pending = new float[0];
        private int pendingPos;
        private int pendingLen;
        private boolean done;

        ResampledStream(AudioStream source, Resampler resampler) {
            this.source = source;
            this.resampler = resampler;
        }

        @Override
        public int read(float[] mono, int off, int len) {
            while (pendingPos >= pendingLen) {
                if (done) {
                    return -1;
                }
                int n = source.read(chunk, 0, chunk.length);
                int room = resampler.maxOutput(Math.max(n, 0));
                if (pending.length < room) {
                    pending = new float[room];
                }
                if (n < 0) {
                    pendingLen = resampler.flush(pending, 0);
                    done = true;
                } else {
                    pendingLen = resampler.process(chunk, 0, n, pending, 0);
                }
                pendingPos = 0;
            }
            int n = Math.min(len, pendingLen - pendingPos);
            System.arraycopy(pending, pendingPos, mono, off, n);
            pendingPos += n;
            return n;
        }

        @Override
        public int sampleRate() {
            return resampler.outputRate();
        }

        @Override
        public int channels() {
            return source.channels();
        }

        @Override
        public String encoding() {
            return source.encoding() + ", resampled " + resampler.inputRate() + " -> " + resampler.outputRate() + " Hz";
        }

        @Override
        public long frames() {
            return source.frames() < 0 ? -1 : resampler.outputLength(source.frames());
        }

        @Override
        public void close() {
            source.close();
        }
    }
}
