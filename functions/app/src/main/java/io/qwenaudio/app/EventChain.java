package io.qwenaudio.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.app.gateway.RequestReplyClient;
import io.qwenaudio.blobs.BlobStore;
import io.qwenaudio.events.Base64Data;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.ModelReadiness;
import io.qwenaudio.serving.ServingConfig;
import io.qwenaudio.serving.ServingSetup;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.funqy.knative.events.CloudEventBuilder;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigurationException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Where the app's requests go: in the one-process app through the stages on the {@link InProcessBus}; in gateway mode
 * ({@code qwen-audio.mode=gateway}) as a CloudEvent through a Knative RequestReply to the stage Services, whose
 * terminal event comes back as the answer. Either way the caller gets the terminal event ({@code text.generated},
 * {@code embedding.created} or {@code pipeline.failed}) with its data as the contract's record, so every route answers
 * with the same JSON and status codes in both modes.
 *
 * <p>In gateway mode audio larger than {@code qwen-audio.payload.inline-limit} travels by claim check: the upload is
 * written to the blob store the stages share ({@code qwen-audio.payload.blob-store=file} on the same volume) and the
 * event carries its reference; the gateway deletes it once the answer is in.
 */
@ApplicationScoped
public class EventChain {

    private static final Logger LOG = Logger.getLogger(EventChain.class.getName());
    static final String COMPONENT = "gateway";

    @Inject
    InProcessBus bus;

    @Inject
    ServingSetup setup;

    @Inject
    ModelReadiness readiness;

    @Inject
    ObjectMapper json;

    private volatile RequestReplyClient client;

    void start(@Observes StartupEvent e) {
        if (!gateway()) return;
        RequestReplyClient c = client();
        readiness.ready(COMPONENT, "sends requests through the RequestReply at " + c.address());
        LOG.info("gateway mode: no model loaded; requests go through the RequestReply at " + c.address() + " (answer within "
                + setup.config().gateway().timeout().toSeconds() + " s), audio over "
                + setup.config().payload().inlineLimit().asLongValue() / 1024 + " KiB by claim check ("
                + setup.config().payload().blobStore().name().toLowerCase() + " blob store)");
    }

    /** True in gateway mode. */
    public boolean gateway() {
        return setup.gatewayMode();
    }

    /** The RequestReply client, configuration checked (gateway mode only). */
    RequestReplyClient client() {
        RequestReplyClient c = client;
        if (c != null) return c;
        synchronized (this) {
            if (client == null) {
                ServingConfig.Gateway g = setup.config().gateway();
                String key = "qwen-audio.gateway.request-reply-url";
                URI url = g.requestReplyUrl().orElseThrow(() -> new ConfigurationException(key + " is not set, but "
                        + "qwen-audio.mode=gateway sends every request through a Knative RequestReply: set it to "
                        + "http://request-reply.knative-eventing.svc.cluster.local/<namespace>/<requestreply> "
                        + "(env QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL)", Set.of(key)));
                if (url.getScheme() == null || !url.getScheme().startsWith("http") || url.getHost() == null) {
                    throw new ConfigurationException(key + "=" + url + " is not an http(s) URL with a host", Set.of(key));
                }
                Duration t = g.timeout();
                if (t.isNegative() || t.isZero()) {
                    throw new ConfigurationException("qwen-audio.gateway.timeout must be positive, got " + t,
                            Set.of("qwen-audio.gateway.timeout"));
                }
                client = new RequestReplyClient(url, t, setup.config().events().source() + "/gateway", json);
            }
            return client;
        }
    }

    /** The audio file of a request event: base64 inline, or a blob-store reference. */
    public record AudioField(String base64, String ref) {
    }

    /**
     * Audio file bytes as the audio of a request event: a blob-store reference when this process has a store (a claim
     * check: no base64 copy inside one process, small events through the mesh; {@link #release} deletes it once the
     * answer is in), else base64 inline.
     */
    public AudioField audio(byte[] bytes) {
        BlobStore store = setup.codec().store();
        return store == null ? new AudioField(Base64.getEncoder().encodeToString(bytes), null) : new AudioField(null, store.put(bytes));
    }

    /** Deletes what {@link #audio} stored. */
    public void release(AudioField a) {
        if (a.ref() != null) setup.codec().store().delete(a.ref());
    }

    /**
     * Publishes {@code event} and returns the terminal event of the chain it starts.
     *
     * @throws io.qwenaudio.stages.StageException when no terminal event can be had (gateway: timeout 504, event mesh
     *                                            unreachable 503, a bad answer 502)
     */
    public CloudEvent<Object> run(CloudEvent<Object> event) {
        if (!gateway()) return bus.run(event);
        List<String> refs = new ArrayList<>();
        try {
            Object data = claimChecked(event.data(), refs);
            RequestReplyClient.Reply r = client().send(event.type(), event.extensions(), data);
            return CloudEventBuilder.create().id(r.id()).type(r.type()).source("qwen-audio/gateway")
                    .extensions(event.extensions()).build(r.data());
        } finally {
            BlobStore store = setup.codec().store();
            for (String ref : refs) store.delete(ref);
        }
    }

    /** {@code data} with inline audio over the inline limit moved to the blob store (its reference added to {@code refs}). */
    private Object claimChecked(Object data, List<String> refs) {
        BlobStore store = setup.codec().store();
        if (store == null) return data;
        long limit = setup.config().payload().inlineLimit().asLongValue();
        if (data instanceof Wire.EncodeRequest r && r.audio() != null && r.audio().length() / 4L * 3 > limit) {
            String ref = store.put(Base64Data.decode("audio", r.audio()));
            refs.add(ref);
            return new Wire.EncodeRequest(null, ref, r.environment(), r.requestId(), r.generate());
        }
        if (data instanceof Wire.EmbedRequest r && r.audio() != null && r.audio().length() / 4L * 3 > limit) {
            String ref = store.put(Base64Data.decode("audio", r.audio()));
            refs.add(ref);
            return new Wire.EmbedRequest(null, ref, r.pooling(), r.normalize(), r.format(), r.includeHidden(), r.requestId());
        }
        return data;
    }
}
