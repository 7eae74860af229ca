#!/usr/bin/env python3
"""Reference Whisper log-mel features in numpy, for parity tests of io.qwenaudio.audio.FeatureExtractor.

Follows the Hugging Face WhisperFeatureExtractor numpy code path (feature_size=128): the Slaney mel filterbank of
transformers.audio_utils.mel_filter_bank, the periodic Hann window of window_function, the frame loop of
spectrogram (float64 frames, rfft stored as complex64, |X|^2 in float64, mel projection in float64, floor 1e-10,
log10, float32 result), then in _np_extract_fbank_features: drop the last frame, clamp at max - 8, (x + 4) / 4.
Audio longer than 30 s is cut into consecutive 30 s windows, each padded with zeros to 480000 samples and
processed like a separate call.

Usage:
  whisper_features.py features IN.npy OUT_PREFIX   -> OUT_PREFIX.features.npy [W,128,3000] float32,
                                                      OUT_PREFIX.lengths.npy [W] int32 (valid mel frames)
  whisper_features.py melfilters OUT.npy           -> [128,201] float32 Slaney filterbank
  whisper_features.py time IN.npy REPEATS          -> prints "ms_per_clip=<median ms>" (python start-up excluded)
"""
import sys
import time

import numpy as np

SAMPLING_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 128
N_SAMPLES = 30 * SAMPLING_RATE
NB_MAX_FRAMES = N_SAMPLES // HOP


def hz_to_mel_slaney(freq):
    freq = np.asarray(freq, dtype=np.float64)
    mels = 3.0 * freq / 200.0
    log_region = freq >= 1000.0
    safe = np.where(log_region, freq, 1000.0)
    return np.where(log_region, 15.0 + np.log(safe / 1000.0) * (27.0 / np.log(6.4)), mels)


def mel_to_hz_slaney(mels):
    mels = np.asarray(mels, dtype=np.float64)
    freq = 200.0 * mels / 3.0
    log_region = mels >= 15.0
    return np.where(log_region, 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels - 15.0)), freq)


def mel_filter_bank(num_frequency_bins, num_mel_filters, min_frequency, max_frequency, sampling_rate):
    """Slaney-scale triangular filters with Slaney area normalisation; returns [num_bins, num_mels] float64."""
    mel_freqs = np.linspace(hz_to_mel_slaney(min_frequency), hz_to_mel_slaney(max_frequency), num_mel_filters + 2)
    filter_freqs = mel_to_hz_slaney(mel_freqs)
    fft_freqs = np.linspace(0, sampling_rate // 2, num_frequency_bins)
    filter_diff = np.diff(filter_freqs)
    slopes = filter_freqs[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / filter_diff[:-1]
    up = slopes[:, 2:] / filter_diff[1:]
    filters = np.maximum(np.zeros(1), np.minimum(down, up))
    enorm = 2.0 / (filter_freqs[2:num_mel_filters + 2] - filter_freqs[:num_mel_filters])
    return filters * enorm[None, :]


def hann_periodic(length):
    return np.hanning(length + 1)[:-1]


def log_mel_spectrogram(waveform, window, mel_filters):
    """STFT with centre reflect padding, power 2, mel projection, floor 1e-10, log10 -> float32 [mels, frames]."""
    waveform = np.pad(waveform, [(N_FFT // 2, N_FFT // 2)], mode="reflect")
    waveform = waveform.astype(np.float64)
    window = window.astype(np.float64)
    num_frames = int(1 + np.floor((waveform.size - N_FFT) / HOP))
    spec = np.empty((num_frames, N_FFT // 2 + 1), dtype=np.complex64)
    buffer = np.zeros(N_FFT)
    start = 0
    for f in range(num_frames):
        buffer[:N_FFT] = waveform[start:start + N_FFT]
        buffer[:N_FFT] *= window
        spec[f] = np.fft.rfft(buffer)
        start += HOP
    power = np.abs(spec, dtype=np.float64) ** 2.0
    mel = np.maximum(1e-10, np.dot(mel_filters.T, power.T))
    return np.asarray(np.log10(mel), np.float32)


def whisper_window(waveform, mel_filters):
    log_spec = log_mel_spectrogram(waveform, hann_periodic(N_FFT), mel_filters)
    log_spec = log_spec[:, :-1]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def features(audio):
    """audio: 1-D float32 at 16 kHz -> ([W,128,3000] float32, [W] int32 valid frames)."""
    mel_filters = mel_filter_bank(1 + N_FFT // 2, N_MELS, 0.0, 8000.0, SAMPLING_RATE)
    audio = np.asarray(audio, dtype=np.float32)
    windows, lengths = [], []
    for start in range(0, max(len(audio), 1), N_SAMPLES):
        chunk = audio[start:start + N_SAMPLES]
        padded = np.zeros(N_SAMPLES, dtype=np.float32)
        padded[:len(chunk)] = chunk
        windows.append(whisper_window(padded, mel_filters).astype(np.float32))
        # attention mask of samples, rescaled to frames with stride HOP: ones for ceil(n / HOP) frames
        sample_mask = np.zeros(N_SAMPLES, dtype=np.int32)
        sample_mask[:len(chunk)] = 1
        lengths.append(int(sample_mask[::HOP][:NB_MAX_FRAMES].sum()))
    return np.stack(windows), np.asarray(lengths, dtype=np.int32)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode = argv[1]
    if mode == "features":
        feats, lengths = features(np.load(argv[2]))
        np.save(argv[3] + ".features.npy", feats)
        np.save(argv[3] + ".lengths.npy", lengths)
    elif mode == "melfilters":
        np.save(argv[2], np.ascontiguousarray(mel_filter_bank(1 + N_FFT // 2, N_MELS, 0.0, 8000.0, SAMPLING_RATE).T, dtype=np.float32))
    elif mode == "time":
        audio = np.load(argv[2])
        repeats = int(argv[3])
        features(audio)  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            features(audio)
            times.append((time.perf_counter() - t0) * 1000.0)
        print("ms_per_clip=%.3f" % float(np.median(times)))
    else:
        print("unknown mode " + mode, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
