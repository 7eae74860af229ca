package io.qwenaudio.audio;

import java.util.Locale;


/**
 * Immutable limits applied to audio input before features are made: the longest accepted clip, the accepted
 * sample-rate range and the most channels. Use {@link #DEFAULT} or the {@code with*} methods.
 */
public final class AudioLimits {

    /** 10 minutes, 1 kHz .. 768 kHz, at most 64 channels. */
    public static final AudioLimits DEFAULT = new AudioLimits(600.0, 1000, 768_000, 64);

    private final double maxDurationSeconds;
    private final int minSampleRate;
    private final int maxSampleRate;
    private final int maxChannels;

    public AudioLimits(double maxDurationSeconds, int minSampleRate, int maxSampleRate, int maxChannels) {
        this.maxDurationSeconds = maxDurationSeconds;
        this.minSampleRate = minSampleRate;
        this.maxSampleRate = maxSampleRate;
        this.maxChannels = maxChannels;
        validate();
    }

    public double maxDurationSeconds() {
        return maxDurationSeconds;
    }

    public int minSampleRate() {
        return minSampleRate;
    }

    public int maxSampleRate() {
        return maxSampleRate;
    }

    public int maxChannels() {
        return maxChannels;
    }

    public AudioLimits withMaxDurationSeconds(double seconds) {
        return new AudioLimits(seconds, minSampleRate, maxSampleRate, maxChannels);
    }

    /** Maximum number of samples at 16 kHz that {@link #maxDurationSeconds()} allows. */
    public long maxSamples16k() {
        return (long) Math.floor(maxDurationSeconds * FeatureExtractor.SAMPLE_RATE);
    }

    /**
     * Checks the limits themselves.
     *
     * @throws IllegalArgumentException naming the bad field
     */
    public AudioLimits validate() {
        if (!(maxDurationSeconds > 0) || Double.isInfinite(maxDurationSeconds)) {
            throw new IllegalArgumentException("AudioLimits.maxDurationSeconds must be a positive finite number, got "
                    + maxDurationSeconds);
        }
        if (minSampleRate < 1 || maxSampleRate < minSampleRate) {
            throw new IllegalArgumentException("AudioLimits sample-rate range must satisfy 1 <= min <= max, got "
                    + minSampleRate + ".." + maxSampleRate + " Hz");
        }
        if (maxChannels < 1) {
            throw new IllegalArgumentException("AudioLimits.maxChannels must be >= 1, got " + maxChannels);
        }
        return this;
    }

    /** Throws {@link InvalidAudioException} if a stream's sample rate or channel count is outside these limits. */
    public void check(long sampleRate, int channels) {
        if (sampleRate < minSampleRate || sampleRate > maxSampleRate) {
            throw new InvalidAudioException("unsupported sample rate: " + sampleRate + " Hz; accepted: "
                    + minSampleRate + ".." + maxSampleRate + " Hz");
        }
        if (channels < 1 || channels > maxChannels) {
            throw new InvalidAudioException("unsupported channel count: " + channels + "; accepted: 1.."
                    + maxChannels + " channels");
        }
    }

    /** Throws {@link InvalidAudioException} if a clip of this many seconds is longer than allowed. */
    public void checkDuration(double seconds) {
        if (seconds > maxDurationSeconds) {
            throw new InvalidAudioException(String.format(Locale.ROOT,
                    "audio too long: %.1f s or more; accepted: at most %.1f s", seconds, maxDurationSeconds));
        }
    }

    @Override
    public String toString() {
        return "AudioLimits[maxDurationSeconds=" + maxDurationSeconds + ", sampleRate=" + minSampleRate + ".."
                + maxSampleRate + " Hz, maxChannels=" + maxChannels + "]";
    }
}
