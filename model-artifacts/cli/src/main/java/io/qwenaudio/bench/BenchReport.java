package io.qwenaudio.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;
import java.util.Map;

/**
 * The figures of one {@link ServingBench} run: what was measured on (provider, dtypes, op set, IO binding), the
 * clip, and each figure as median / min / max over the timed rounds.
 *
 * @param peakRssBytes      peak resident set of the process, -1 if unknown
 * @param deviceMemoryBytes device memory the process holds on CUDA, null elsewhere or when unknown
 */
public record BenchReport(String provider, String dtype, String decoderDtype, String decoderOpSet, boolean ioBinding,
                          int rounds, double clipSeconds, int windows, long audioTokens, int promptTokens,
                          int newTokens, ServingBench.Samples frontEndMsPerWindow,
                          Map<String, ServingBench.Samples> encoderWindowsPerSecondByBatch, int bestEncoderBatch,
                          ServingBench.Samples projectorMs, ServingBench.Samples ttftMs,
                          ServingBench.Samples decodeTokensPerSecond, long peakRssBytes, Long deviceMemoryBytes) {

    /** The report as one JSON object (snake_case keys; each figure {@code {"median":..,"min":..,"max":..}}). */
    public String toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("provider", provider).put("dtype", dtype).put("decoder_dtype", decoderDtype)
                .put("decoder_op_set", decoderOpSet).put("io_binding", ioBinding).put("rounds", rounds);
        root.putObject("clip").put("seconds", clipSeconds).put("windows", windows).put("audio_tokens", audioTokens)
                .put("prompt_tokens", promptTokens).put("new_tokens", newTokens);
        stats(root, "front_end_ms_per_window", frontEndMsPerWindow);
        ObjectNode enc = root.putObject("encoder_windows_per_second");
        for (var e : encoderWindowsPerSecondByBatch.entrySet()) stats(enc, "batch_" + e.getKey(), e.getValue());
        root.put("encoder_best_batch", bestEncoderBatch);
        stats(root, "encoder_windows_per_second_best",
                encoderWindowsPerSecondByBatch.get(String.valueOf(bestEncoderBatch)));
        stats(root, "projector_ms", projectorMs);
        stats(root, "ttft_ms", ttftMs);
        stats(root, "decode_tokens_per_second", decodeTokensPerSecond);
        root.put("peak_rss_bytes", peakRssBytes);
        if (deviceMemoryBytes == null) root.putNull("device_memory_bytes");
        else root.put("device_memory_bytes", deviceMemoryBytes);
        try {
            return m.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void stats(ObjectNode parent, String name, ServingBench.Samples s) {
        parent.putObject(name).put("median", s.median()).put("min", s.min()).put("max", s.max());
    }

    /** The report as an aligned plain-text table. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "provider %s, dtype %s (decoder %s, op set %s), io-binding %s, %d rounds "
                        + "(median / min / max)%n", provider, dtype, decoderDtype, decoderOpSet, ioBinding ? "on" : "off",
                rounds));
        b.append(String.format(Locale.ROOT, "clip %.1f s: %d window(s), %d audio tokens, prompt %d tokens, %d new tokens%n",
                clipSeconds, windows, audioTokens, promptTokens, newTokens));
        row(b, "front-end ms / 30 s window", frontEndMsPerWindow);
        for (var e : encoderWindowsPerSecondByBatch.entrySet()) {
            row(b, "encoder windows/s, batch " + e.getKey(), e.getValue());
        }
        b.append(String.format(Locale.ROOT, "%-34s %s%n", "encoder best batch", bestEncoderBatch));
        row(b, "projector ms (750 positions)", projectorMs);
        row(b, "time to first token ms", ttftMs);
        row(b, "decode tokens/s (batch 1)", decodeTokensPerSecond);
        b.append(String.format(Locale.ROOT, "%-34s %s%n", "peak RSS MB",
                peakRssBytes < 0 ? "unknown" : String.format(Locale.ROOT, "%.0f", peakRssBytes / 1e6)));
        b.append(String.format(Locale.ROOT, "%-34s %s%n", "device memory MB",
                deviceMemoryBytes == null ? "n/a" : String.format(Locale.ROOT, "%.0f", deviceMemoryBytes / 1e6)));
        return b.toString();
    }

    private static void row(StringBuilder b, String label, ServingBench.Samples s) {
        b.append(String.format(Locale.ROOT, "%-34s %10.2f %10.2f %10.2f%n", label, s.median(), s.min(), s.max()));
    }
}
