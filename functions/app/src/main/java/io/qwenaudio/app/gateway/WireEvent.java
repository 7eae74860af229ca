package io.qwenaudio.app.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.stages.Failures;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A CloudEvent as it travels over HTTP: its attributes (id, type, source, extensions, ...) and its data bytes. Read
 * from binary mode ({@code ce-*} headers, the body is the data) or structured mode
 * ({@code application/cloudevents+json}, attributes and data in one JSON object), written in binary mode.
 *
 * @param attributes attribute name (lower case, without {@code ce-}) -> value
 * @param data       the data bytes (JSON for this contract), empty when there are none
 */
public record WireEvent(Map<String, String> attributes, byte[] data) {

    static final String STRUCTURED = "application/cloudevents+json";
    private static final Set<String> REQUIRED = Set.of("specversion", "id", "type", "source");

    public WireEvent {
        attributes = Map.copyOf(attributes);
    }

    public String id() {
        return attributes.get("id");
    }

    public String type() {
        return attributes.get("type");
    }

    public String attribute(String name) {
        return attributes.get(name);
    }

    /**
     * The event in an HTTP message, or null when the message carries none (no {@code ce-type} header and not
     * structured mode).
     *
     * @param header       header lookup (case-insensitive)
     * @param body         the body bytes (may be empty)
     * @param headerNames  every header name of the message
     * @throws IllegalArgumentException when the message is a CloudEvent that lacks a required attribute or whose
     *                                  structured body is not a JSON object
     */
    public static WireEvent read(Function<String, String> header, Iterable<String> headerNames, byte[] body, ObjectMapper json) {
        String contentType = header.apply("content-type");
        if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith(STRUCTURED)) {
            return structured(body, json);
        }
        if (header.apply("ce-type") == null) return null;
        Map<String, String> a = new LinkedHashMap<>();
        for (String name : headerNames) {
            String n = name.toLowerCase(Locale.ROOT);
            if (n.startsWith("ce-") && n.length() > 3) a.put(n.substring(3), header.apply(name));
        }
        if (contentType != null) a.put("datacontenttype", contentType);
        return checked(new WireEvent(a, body == null ? new byte[0] : body));
    }

    private static WireEvent structured(byte[] body, ObjectMapper json) {
        JsonNode n;
        try {
            n = json.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("a structured CloudEvent must be a JSON object: " + Failures.firstLine(e.getMessage()));
        }
        if (n == null || !n.isObject()) throw new IllegalArgumentException("a structured CloudEvent must be a JSON object");
        Map<String, String> a = new LinkedHashMap<>();
        byte[] data = new byte[0];
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String k = f.getKey().toLowerCase(Locale.ROOT);
            JsonNode v = f.getValue();
            if (k.equals("data")) {
                data = v.isTextual() ? v.asText().getBytes(StandardCharsets.UTF_8) : v.toString().getBytes(StandardCharsets.UTF_8);
            } else if (k.equals("data_base64")) {
                data = Base64.getDecoder().decode(v.asText());
            } else if (!v.isNull()) {
                a.put(k, v.isTextual() ? v.asText() : v.toString());
            }
        }
        return checked(new WireEvent(a, data));
    }

    private static WireEvent checked(WireEvent e) {
        for (String r : REQUIRED) {
            String v = e.attributes.get(r);
            if (v == null || v.isEmpty()) throw new IllegalArgumentException("the CloudEvent has no '" + r + "' attribute");
        }
        return e;
    }

    /**
     * A binary-mode POST of a JSON event to {@code target}: the required attributes and the extensions as {@code ce-*}
     * headers (null values left out), the data as the body.
     */
    public static HttpRequest.Builder post(URI target, String id, String type, String source, Map<String, String> extensions,
                                           byte[] json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(target).header("content-type", "application/json")
                .header("ce-specversion", "1.0").header("ce-id", id).header("ce-type", type).header("ce-source", source)
                .POST(HttpRequest.BodyPublishers.ofByteArray(json));
        extensions.forEach((k, v) -> {
            if (v != null) b.header("ce-" + k, v);
        });
        return b;
    }

    /** This event as a structured-mode JSON object (data parsed as JSON when it is). */
    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode o = json.createObjectNode();
        attributes.forEach(o::put);
        try {
            if (data.length > 0) o.set("data", json.readTree(data));
        } catch (IOException e) {
            o.put("data_base64", Base64.getEncoder().encodeToString(data));
        }
        return o;
    }
}
