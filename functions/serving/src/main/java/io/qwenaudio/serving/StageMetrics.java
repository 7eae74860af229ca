package io.qwenaudio.serving;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Prometheus metrics of the stages (at {@code /q/metrics}): {@code qwen_audio_requests_total{stage,outcome}},
 * {@code qwen_audio_stage_seconds{stage}} (latency per stage) and {@code qwen_audio_batch_size{stage}} (windows
 * per encoder run).
 */
@ApplicationScoped
public class StageMetrics {

    @Inject
    MeterRegistry registry;

    /** Counts one request of {@code stage} with its outcome ({@code ok} or an error code). */
    public void count(String stage, String outcome) {
        registry.counter("qwen_audio_requests", "stage", stage, "outcome", outcome).increment();
    }

    public void time(String stage, Duration d) {
        Timer.builder("qwen_audio_stage").tag("stage", stage).publishPercentileHistogram(false)
                .register(registry).record(d);
    }

    /** A listener that records batch sizes of {@code stage}. */
    public IntConsumer batchSizes(String stage) {
        DistributionSummary s = DistributionSummary.builder("qwen_audio_batch_size").tag("stage", stage)
                .description("items per batched model run").register(registry);
        return s::record;
    }

    /** Registers a gauge, e.g. the encoder queue depth. */
    public void gauge(String name, String stage, Supplier<Number> value) {
        Gauge.builder(name, value).tag("stage", stage).register(registry);
    }
}
