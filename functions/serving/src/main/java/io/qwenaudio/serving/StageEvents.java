package io.qwenaudio.serving;

import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.ReplyAttributes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.Failures;
import io.qwenaudio.stages.ReplyCache;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventBuilder;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import io.quarkus.runtime.configuration.ConfigurationException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Runs a stage for a plain HTTP call or for a CloudEvent, with the same metrics either way.
 *
 * <p>For a CloudEvent the answer is the next event of the chain, or {@code pipeline.failed} carrying the
 * stage, status and reason when the request cannot be served: the broker then delivers the failure like any
 * other event instead of retrying a request that will fail again. Overload is the exception: it is answered
 * with HTTP 429 and Retry-After, so the broker redelivers later. Replies are remembered per (source, type, id)
 * ({@link ReplyCache}, bounded by entries, bytes and age), so a redelivered event gets the same reply (same id)
 * without being processed again, and another source's event with the same id gets its own.
 */
@ApplicationScoped
public class StageEvents {

    /** What a stage computed and the environment the reply carries (null: none). */
    public record Out(Object data, String environment) {
    }

    @Inject
    ServingConfig config;

    @Inject
    StageMetrics metrics;

    @Inject
    ServingSetup setup;

    private ReplyAttributes replyAttributes;

    private ReplyCache<CloudEvent<Object>> replies;

    @PostConstruct
    void init() {
        ServingConfig.Events e = config.events();
        if (e.dedupEntries() < 1) {
            throw new ConfigurationException("qwen-audio.events.dedup-entries must be >= 1, got " + e.dedupEntries(),
                    Set.of("qwen-audio.events.dedup-entries"));
        }
        if (e.dedupMaxBytes().asLongValue() < 1 << 20) {
            throw new ConfigurationException("qwen-audio.events.dedup-max-bytes must be at least 1M, got "
                    + e.dedupMaxBytes().asLongValue(), Set.of("qwen-audio.events.dedup-max-bytes"));
        }
        replies = new ReplyCache<>(e.dedupEntries(), e.dedupMaxBytes().asLongValue(), e.dedupTtl(), StageEvents::bytes);
        replyAttributes = setup.replyAttributes();
    }

    /** A plain HTTP call: runs {@code work}, counts and times it; failures go to the HTTP error mapping. */
    public <O> O http(String stage, Supplier<O> work) {
        long t0 = System.nanoTime();
        try {
            O out = work.get();
            metrics.count(stage, "ok");
            return out;
        } catch (RuntimeException | Error e) {
            metrics.count(stage, Failures.describe(stage, e, null, null).error());
            throw e;
        } finally {
            metrics.time(stage, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /**
     * A CloudEvent: runs {@code work} once per event id and answers with {@code replyType} (or
     * {@code pipeline.failed}). The request id is the event's {@code correlationid} extension, else its id. The
     * RequestReply correlation extension ({@code qwen-audio.events.reply-correlation-attribute}) is copied onto the
     * answer, and a terminal answer carries it as the reply extension too.
     *
     * @param work gets the event data (parsed here, so malformed JSON becomes a {@code pipeline.failed}) and the
     *             request id
     */
    public <I> CloudEvent<Object> event(String stage, CloudEvent<I> in, String replyType, Work<I> work) {
        String requestId = requestId(in);
        return replies.computeOnce(key(in), () -> {
            long t0 = System.nanoTime();
            String env = in.extensions() == null ? null : in.extensions().get(EventTypes.ENVIRONMENT);
            try {
                Out out = work.apply(in.data(), requestId);
                metrics.count(stage, "ok");
                return reply(in, stage, replyType, out.data(), requestId, out.environment());
            } catch (RuntimeException | Error e) {
                Wire.Failure f = Failures.describe(stage, e, requestId, in.id());
                metrics.count(stage, f.error());
                if (f.status() == 429) throw e; // not remembered: the redelivery is computed
                if (f.status() >= 500 && e instanceof Error) throw e; // out of memory: not remembered either
                return reply(in, stage, EventTypes.PIPELINE_FAILED, f, requestId, env);
            } finally {
                metrics.time(stage, Duration.ofNanos(System.nanoTime() - t0));
            }
        });
    }

    /** The stage computation of a CloudEvent function. */
    @FunctionalInterface
    public interface Work<I> {
        Out apply(I data, String requestId);
    }

    /**
     * The de-duplication key of an event: (source, type, id). Knative promises unique (source, id) per event; the type
     * is added because one process consumes several types, so another source's or another type's event with the same
     * id is a different event, never answered with this one's reply.
     */
    static String key(CloudEvent<?> in) {
        if (in.id() == null) return null;
        return in.source() + "\u0000" + in.type() + "\u0000" + in.id();
    }

    /** Approximate bytes a remembered reply holds: its tensors and texts (the weigher of the reply cache). */
    static long bytes(CloudEvent<Object> e) {
        Object d = e.data();
        long b = 512;
        if (d instanceof Wire.EncodedAudio a && a.hidden() != null && a.hidden().npy() != null) b += a.hidden().npy().length();
        if (d instanceof Wire.TextGenerated t) b += 2L * (t.text() == null ? 0 : t.text().length())
                + 16L * (t.tokenIds() == null ? 0 : t.tokenIds().size());
        if (d instanceof Wire.EmbedResponse r) {
            b += (long) r.tokens() * r.dim() * 4 * (r.hidden() == null && r.hiddenNpy() == null ? 0 : 2) + (long) r.dim() * 8;
        }
        return b;
    }

    public static String requestId(CloudEvent<?> in) {
        String c = in.extensions() == null ? null : in.extensions().get(EventTypes.CORRELATION);
        return c == null || c.isBlank() ? in.id() : c;
    }

    private CloudEvent<Object> reply(CloudEvent<?> in, String stage, String type, Object data, String requestId, String env) {
        String id = UUID.nameUUIDFromBytes((in.source() + "|" + in.id() + "|" + stage + "|" + type).getBytes(StandardCharsets.UTF_8)).toString();
        Map<String, String> ext = EventTypes.extensions(requestId, env);
        ext.putAll(replyAttributes.forAnswer(in.extensions(), type)); // a RequestReply's correlation travels along
        return CloudEventBuilder.create().id(id).type(type).source(config.events().source() + "/" + stage)
                .extensions(ext).build(data);
    }
}
