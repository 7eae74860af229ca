package io.qwenaudio.app;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.stages.GenerateStage;

/**
 * The per-stage timings of one chat completion, added to the answer as the extra field {@code timings} (in the
 * completion and in the last streamed chunk; OpenAI clients ignore fields they do not know): milliseconds of
 * {@code decode} (audio file to samples), {@code features} (log-mel), {@code encode} (audio encoder), {@code adapt}
 * (domain adapter), summed over the clips, then {@code project}, {@code prefill} (time to the first token) and
 * {@code generate} (the whole generation), and {@code decode_tokens_per_second}. One request's worker only.
 */
final class AnswerTimings {

    private double decodeMs, featuresMs, encodeMs, adaptMs;

    /** Adds one clip's encode-stage timings. */
    void encoded(EncodeStage.Encoded e) {
        decodeMs += e.decodeMs();
        featuresMs += e.featuresMs();
        encodeMs += e.encodeMs();
    }

    /** Adds one clip's adapter time, measured from {@code startNanos}. */
    void adaptedSince(long startNanos) {
        adaptMs += (System.nanoTime() - startNanos) / 1e6;
    }

    ObjectNode json(GenerateStage.Result r) {
        Generation g = r.generation();
        return JsonNodeFactory.instance.objectNode().put("decode_ms", round(decodeMs)).put("features_ms", round(featuresMs))
                .put("encode_ms", round(encodeMs)).put("adapt_ms", round(adaptMs)).put("project_ms", round(r.projectMs()))
                .put("prefill_ms", round(g.prefillMillis())).put("generate_ms", round(g.totalMillis()))
                .put("decode_tokens_per_second", round(g.decodeTokensPerSecond()));
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
