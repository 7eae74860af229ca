package io.qwenaudio.chain;

import com.sun.net.httpserver.Headers;

import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A CloudEvent as it travels in binary mode over HTTP: its context attributes (the {@code ce-*} headers without
 * the prefix: id, type, source, specversion and the extensions) and its JSON data (the body).
 */
record Event(Map<String, String> attributes, byte[] data) {

    Event {
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** A new event of {@code type} with a random id; {@code extensions} are added as attributes. */
    static Event create(String type, String source, byte[] json, Map<String, String> extensions) {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("specversion", "1.0");
        a.put("id", UUID.randomUUID().toString());
        a.put("type", type);
        a.put("source", source);
        a.putAll(extensions);
        return new Event(a, json);
    }

    /** The event carried by an HTTP response (binary mode), or null when the response holds none. */
    static Event fromResponse(HttpHeaders headers, byte[] body) {
        Map<String, String> a = new LinkedHashMap<>();
        headers.map().forEach((name, values) -> {
            String n = name.toLowerCase(Locale.ROOT);
            if (n.startsWith("ce-") && !values.isEmpty()) a.put(n.substring(3), values.get(0));
        });
        if (!a.containsKey("id") || !a.containsKey("type")) return null;
        return new Event(a, body);
    }

    /** The event of a binary-mode HTTP request ({@code ce-*} headers, the body as data), or null when it holds none. */
    static Event fromRequest(Headers headers, byte[] body) {
        Map<String, String> a = new LinkedHashMap<>();
        headers.forEach((name, values) -> {
            String n = name.toLowerCase(Locale.ROOT);
            if (n.startsWith("ce-") && !values.isEmpty()) a.put(n.substring(3), values.get(0));
        });
        if (!a.containsKey("id") || !a.containsKey("type")) return null;
        return new Event(a, body);
    }

    String id() {
        return attributes.get("id");
    }

    String type() {
        return attributes.get("type");
    }

    String attribute(String name) {
        return attributes.get(name);
    }

    /** The {@code correlationid} extension: the request this event belongs to. */
    String correlationId() {
        return attributes.get("correlationid");
    }

    /** A copy with one attribute added or replaced. */
    Event with(String name, String value) {
        Map<String, String> a = new LinkedHashMap<>(attributes);
        a.put(name, value);
        return new Event(a, data);
    }

    String dataText() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return type() + " id=" + id() + " correlationid=" + correlationId();
    }
}
