package io.qwenaudio.app.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.StageException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * Sends a request event through a Knative RequestReply and returns the reply: the RequestReply stamps its correlation
 * extension on the event, hands it to the Broker, and answers the HTTP request with the first event that comes back
 * carrying that value in its reply extension (a terminal event of the chain, in binary mode).
 *
 * <p>Every send gets a fresh {@code ce-id}: the RequestReply keys waiting requests by event id, so two callers that
 * share a request id never share a reply. What cannot be a reply becomes a {@link StageException} with the status the
 * caller gets: no reply within the RequestReply's wait (its data plane then answers 200 with no event) or within
 * {@code qwen-audio.gateway.timeout} -> 504; the RequestReply unreachable -> 503 (with Retry-After); any other
 * answer -> 502 naming it.
 */
public final class RequestReplyClient {

    /** The terminal event's type and its data, parsed into the contract's record for that type. */
    public record Reply(String type, String id, Object data) {
    }

    private final URI address;
    private final Duration timeout;
    private final String source;
    private final ObjectMapper json;
    private final HttpClient http;

    /**
     * @param address the RequestReply's address ({@code qwen-audio.gateway.request-reply-url})
     * @param timeout longest wait for the reply ({@code qwen-audio.gateway.timeout})
     * @param source  the {@code ce-source} of the request events
     */
    public RequestReplyClient(URI address, Duration timeout, String source, ObjectMapper json) {
        this.address = address;
        this.timeout = timeout;
        this.source = source;
        this.json = json;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    public URI address() {
        return address;
    }

    /**
     * Sends an event of {@code type} with {@code data} and the extensions {@code extensions} (request id, environment)
     * and waits for the reply.
     */
    public Reply send(String type, Map<String, String> extensions, Object data) {
        String id = UUID.randomUUID().toString();
        byte[] body;
        try {
            body = json.writeValueAsBytes(data);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the " + type + " event: " + e.getMessage(), e);
        }
        HttpRequest.Builder b = WireEvent.post(address, id, type, source, extensions, body).timeout(timeout);
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            throw new StageException(504, "timeout", "no answer from the stage Services within " + timeout.toSeconds()
                    + " s (qwen-audio.gateway.timeout); the request may still complete, retry with the same request_id later");
        } catch (ConnectException e) {
            throw new StageException(503, "event_mesh_unavailable", "the event mesh is not reachable: cannot connect to the "
                    + "RequestReply at " + address + " (qwen-audio.gateway.request-reply-url); retry later");
        } catch (IOException e) {
            throw new StageException(502, "bad_gateway", "the RequestReply at " + address + " failed: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StageException(503, "shutting_down", "the gateway is shutting down; retry");
        }
        return reply(r);
    }

    private Reply reply(HttpResponse<byte[]> r) {
        int status = r.statusCode();
        if (status / 100 != 2) {
            throw new StageException(502, "bad_gateway", "the RequestReply at " + address + " answered HTTP " + status
                    + (status == 404 ? " (no RequestReply of that namespace/name: check qwen-audio.gateway.request-reply-url)" : ""));
        }
        WireEvent e;
        try {
            e = WireEvent.read(h -> r.headers().firstValue(h).orElse(null), r.headers().map().keySet(), r.body(), json);
        } catch (IllegalArgumentException ex) {
            throw new StageException(502, "bad_gateway", "the RequestReply answered with a malformed CloudEvent: " + ex.getMessage());
        }
        if (e == null) {
            // what Knative's RequestReply sends when no reply came within its wait
            throw new StageException(504, "timeout", "no reply event within the RequestReply's wait (its spec.timeout; "
                    + "Knative's data plane waits at most one minute); the request may still complete, retry with the same "
                    + "request_id later");
        }
        Class<?> dataType = switch (e.type()) {
            case EventTypes.TEXT_GENERATED -> Wire.TextGenerated.class;
            case EventTypes.EMBEDDING_CREATED -> Wire.EmbedResponse.class;
            case EventTypes.PIPELINE_FAILED -> Wire.Failure.class;
            default -> throw new StageException(502, "bad_gateway", "the reply is a " + e.type() + " event; expected one of "
                    + EventTypes.TERMINAL);
        };
        try {
            return new Reply(e.type(), e.id(), json.readValue(e.data(), dataType));
        } catch (IOException ex) {
            throw new StageException(502, "bad_gateway", "the " + e.type() + " reply's data is not a " + dataType.getSimpleName()
                    + ": " + ex.getMessage());
        }
    }
}
