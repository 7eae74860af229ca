package io.qwenaudio.runtime;

import java.util.Locale;

/**
 * How ONNX Runtime sessions are created: execution provider, threads, start-up checks. Immutable; the Quarkus
 * modules fill it from configuration keys {@code qwen-audio.runtime.*} and {@link #validate()} names the bad key.
 *
 * @param executionProvider where sessions run
 * @param deviceId          CUDA device ordinal
 * @param fallbackToCpu     when CUDA is asked for but not available: run on CPU (true) or fail (false)
 * @param intraOpThreads    threads inside one operator; 0 lets ONNX Runtime choose (one per core)
 * @param interOpThreads    threads across independent operators; 0 lets ONNX Runtime choose
 * @param verifyChecksums   check the sha256 of every artifact file against manifest.json when opening
 * @param warmup            run each graph once on dummy input at start so the first request is not slow
 * @param allowSpinning     let idle intra-op threads spin (lowest latency on a dedicated machine); off gives the
 *                          cores back at once, better when several sessions or processes share few cores
 * @param ioBinding         decode through ONNX Runtime's IO binding so the KV cache stays where the execution
 *                          provider computed it (device memory under CUDA); off uses the Java API's run, which
 *                          brings every output back to host memory (configuration: {@code on} / {@code off})
 */
public record RuntimeOptions(ExecutionProvider executionProvider, int deviceId, boolean fallbackToCpu, int intraOpThreads,
                             int interOpThreads, boolean verifyChecksums, boolean warmup, boolean allowSpinning,
                             boolean ioBinding) {

    public static final String PREFIX = "qwen-audio.runtime.";

    public static RuntimeOptions defaults() {
        return new RuntimeOptions(ExecutionProvider.CPU, 0, false, 0, 0, true, true, true, true);
    }

    /** Parses an {@code on}/{@code off} switch of {@code key}; the message names the key and the accepted values. */
    public static boolean onOff(String key, String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException(PREFIX + key + ": '" + value + "' is not accepted; use on or off");
        };
    }

    public boolean cuda() {
        return executionProvider == ExecutionProvider.CUDA;
    }

    /** Checks every field; the message names the configuration key and the accepted values. */
    public RuntimeOptions validate() {
        if (executionProvider == null) throw new IllegalArgumentException(ExecutionProvider.KEY + " is not set");
        if (deviceId < 0) throw new IllegalArgumentException(PREFIX + "device-id must be >= 0, got " + deviceId);
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException(PREFIX + "intra-op-threads must be >= 0 (0 = automatic), got "
                    + intraOpThreads);
        }
        if (interOpThreads < 0) {
            throw new IllegalArgumentException(PREFIX + "inter-op-threads must be >= 0 (0 = automatic), got "
                    + interOpThreads);
        }
        return this;
    }

    public RuntimeOptions withExecutionProvider(ExecutionProvider ep) {
        return new RuntimeOptions(ep, deviceId, fallbackToCpu, intraOpThreads, interOpThreads, verifyChecksums, warmup, allowSpinning, ioBinding);
    }

    public RuntimeOptions withIntraOpThreads(int n) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, n, interOpThreads, verifyChecksums, warmup, allowSpinning, ioBinding);
    }

    public RuntimeOptions withFallbackToCpu(boolean fallback) {
        return new RuntimeOptions(executionProvider, deviceId, fallback, intraOpThreads, interOpThreads, verifyChecksums,
                warmup, allowSpinning, ioBinding);
    }

    public RuntimeOptions withVerifyChecksums(boolean verify) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, intraOpThreads, interOpThreads, verify,
                warmup, allowSpinning, ioBinding);
    }

    public RuntimeOptions withIoBinding(boolean on) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, intraOpThreads, interOpThreads,
                verifyChecksums, warmup, allowSpinning, on);
    }

    public RuntimeOptions withWarmup(boolean w) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, intraOpThreads, interOpThreads,
                verifyChecksums, w, allowSpinning, ioBinding);
    }
}
