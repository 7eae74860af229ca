package io.qwenaudio.runtime;

import java.util.Locale;

/**
 * How ONNX Runtime sessions are created: execution provider, threads, start-up checks. Immutable; the Quarkus
 * modules fill it from configuration keys {@code qwen-audio.runtime.*} and {@link #validate()} names the bad key.
 *
 * @param executionProvider {@code cpu} or {@code cuda}
 * @param deviceId          CUDA device ordinal
 * @param fallbackToCpu     when CUDA is asked for but not available: run on CPU (true) or fail (false)
 * @param intraOpThreads    threads inside one operator; 0 lets ONNX Runtime choose (one per core)
 * @param interOpThreads    threads across independent operators; 0 lets ONNX Runtime choose
 * @param verifyChecksums   check the sha256 of every artifact file against manifest.json when opening
 * @param warmup            run each graph once on dummy input at start so the first request is not slow
 * @param allowSpinning     let idle intra-op threads spin (lowest latency on a dedicated machine); off gives the
 *                          cores back at once, better when several sessions or processes share few cores
 */
public record RuntimeOptions(String executionProvider, int deviceId, boolean fallbackToCpu, int intraOpThreads,
                             int interOpThreads, boolean verifyChecksums, boolean warmup, boolean allowSpinning) {

    public static final String PREFIX = "qwen-audio.runtime.";

    public static RuntimeOptions defaults() {
        return new RuntimeOptions("cpu", 0, false, 0, 0, true, true, true);
    }

    public boolean cuda() {
        return "cuda".equals(executionProvider.toLowerCase(Locale.ROOT));
    }

    /** Checks every field; the message names the configuration key and the accepted values. */
    public RuntimeOptions validate() {
        String ep = executionProvider == null ? "" : executionProvider.toLowerCase(Locale.ROOT);
        if (!ep.equals("cpu") && !ep.equals("cuda")) {
            throw new IllegalArgumentException(PREFIX + "execution-provider: '" + executionProvider
                    + "' is not supported; accepted: cpu, cuda");
        }
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

    public RuntimeOptions withExecutionProvider(String ep) {
        return new RuntimeOptions(ep, deviceId, fallbackToCpu, intraOpThreads, interOpThreads, verifyChecksums, warmup, allowSpinning);
    }

    public RuntimeOptions withIntraOpThreads(int n) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, n, interOpThreads, verifyChecksums, warmup, allowSpinning);
    }

    public RuntimeOptions withFallbackToCpu(boolean fallback) {
        return new RuntimeOptions(executionProvider, deviceId, fallback, intraOpThreads, interOpThreads, verifyChecksums,
                warmup, allowSpinning);
    }

    public RuntimeOptions withVerifyChecksums(boolean verify) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, intraOpThreads, interOpThreads, verify,
                warmup, allowSpinning);
    }

    public RuntimeOptions withAllowSpinning(boolean spin) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, intraOpThreads, interOpThreads,
                verifyChecksums, warmup, spin);
    }

    public RuntimeOptions withWarmup(boolean w) {
        return new RuntimeOptions(executionProvider, deviceId, fallbackToCpu, intraOpThreads, interOpThreads,
                verifyChecksums, w, allowSpinning);
    }
}
