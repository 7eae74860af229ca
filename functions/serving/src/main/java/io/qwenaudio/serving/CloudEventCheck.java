package io.qwenaudio.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.stages.Failures;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.util.Locale;
import java.util.Map;

/**
 * Checks a request to {@code POST /} before Funqy sees it, so every malformed CloudEvent gets a JSON 4xx naming
 * what is wrong (never a 500 from a null field). Binary mode: {@code ce-specversion}, {@code ce-id},
 * {@code ce-type}, {@code ce-source} headers, a JSON body. Structured mode ({@code application/cloudevents+json}):
 * a JSON object with {@code specversion}, {@code id}, {@code source}, {@code type}, {@code datacontenttype}
 * {@code application/json} and {@code data}. Either way the type must be one a function of this process consumes.
 */
public final class CloudEventCheck {

    /** What is wrong: HTTP status, error code, message, the field at fault. */
    public record Problem(int status, String code, String message, String field) {
    }

    private final Map<String, String> triggers;
    private final ObjectMapper json;

    public CloudEventCheck(Map<String, String> triggers, ObjectMapper json) {
        this.triggers = triggers;
        this.json = json;
    }

    public static boolean structured(HttpServerRequest r) {
        String ct = r.getHeader("content-type");
        return ct != null && ct.toLowerCase(Locale.ROOT).startsWith("application/cloudevents");
    }

    /** Problems visible in the headers alone (checked before the body is read), or null. */
    public Problem headers(HttpServerRequest r, String routes) {
        String ct = r.getHeader("content-type");
        String lct = ct == null ? "" : ct.toLowerCase(Locale.ROOT).trim();
        if (lct.startsWith("application/cloudevents-batch")) {
            return new Problem(415, "unsupported_media_type", "batched CloudEvents (application/cloudevents-batch+json) are "
                    + "not accepted; send one event per request", "content-type");
        }
        if (structured(r)) return null;
        if (r.getHeader("ce-specversion") == null) {
            return new Problem(400, "invalid_cloudevent", "POST / takes a CloudEvent (binary mode: ce-specversion, ce-id, "
                    + "ce-type, ce-source headers and a JSON body; or structured mode: application/cloudevents+json); for "
                    + "plain JSON call a function path instead: " + routes, "ce-specversion");
        }
        if (!"1.0".equals(r.getHeader("ce-specversion"))) {
            return new Problem(400, "invalid_cloudevent", "ce-specversion '" + r.getHeader("ce-specversion")
                    + "' is not supported; accepted: 1.0", "ce-specversion");
        }
        for (String h : new String[] {"ce-id", "ce-type", "ce-source"}) {
            String v = r.getHeader(h);
            if (v == null || v.isBlank()) return new Problem(400, "invalid_cloudevent", "CloudEvent header " + h + " is missing; it is required", h);
        }
        if (!lct.isEmpty() && !lct.startsWith("application/json")) {
            return new Problem(415, "unsupported_media_type", "content-type '" + ct + "' is not accepted for a binary-mode "
                    + "CloudEvent; its data must be application/json (or send application/cloudevents+json)", "content-type");
        }
        return type(r.getHeader("ce-type"), "ce-type");
    }

    /** Problems of the body: empty, or (structured mode) not a complete CloudEvent. Null when fine. */
    public Problem body(HttpServerRequest r, Buffer body) {
        boolean structured = structured(r);
        if (body == null || body.length() == 0) {
            return new Problem(400, "empty_body", structured
                    ? "the body is empty; a structured CloudEvent is a JSON object with specversion, id, source, type, "
                    + "datacontenttype and data"
                    : "the CloudEvent has no data; send the event's JSON data as the body", "data");
        }
        if (!structured) return null;
        JsonNode e;
        try {
            e = json.readTree(body.getBytes());
        } catch (Exception ex) {
            return new Problem(400, "malformed_json", "the structured CloudEvent is not valid JSON: "
                    + Failures.firstLine(ex.getMessage()), null);
        }
        if (e == null || !e.isObject()) {
            return new Problem(400, "invalid_cloudevent", "a structured CloudEvent must be a JSON object with specversion, id, "
                    + "source, type, datacontenttype and data", null);
        }
        for (String f : new String[] {"specversion", "id", "source", "type"}) {
            JsonNode v = e.get(f);
            if (v == null || !v.isTextual() || v.asText().isBlank()) {
                return new Problem(400, "invalid_cloudevent", "CloudEvent attribute '" + f + "' is missing or not a "
                        + "non-empty string; it is required", f);
            }
        }
        if (!"1.0".equals(e.get("specversion").asText())) {
            return new Problem(400, "invalid_cloudevent", "specversion '" + e.get("specversion").asText()
                    + "' is not supported; accepted: 1.0", "specversion");
        }
        Problem t = type(e.get("type").asText(), "type");
        if (t != null) return t;
        JsonNode dct = e.get("datacontenttype");
        if (dct == null || !dct.isTextual() || !dct.asText().toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return new Problem(400, "invalid_cloudevent", "datacontenttype must be application/json, got "
                    + (dct == null ? "none" : dct.toString()), "datacontenttype");
        }
        JsonNode data = e.get("data");
        if (data == null || data.isNull()) {
            return new Problem(400, "empty_body", "the CloudEvent has no data; put the event's JSON object in 'data'", "data");
        }
        if (!data.isObject()) {
            return new Problem(400, "invalid_cloudevent", "'data' must be a JSON object, got " + data.getNodeType(), "data");
        }
        return null;
    }

    /** The function a type goes to, or null. */
    public String function(String type) {
        return type == null ? null : triggers.get(type);
    }

    /** The type of a structured-mode body, or null when it has none. */
    public String structuredType(Buffer body) {
        try {
            JsonNode t = json.readTree(body.getBytes()).get("type");
            return t == null ? null : t.asText();
        } catch (Exception e) {
            return null;
        }
    }

    private Problem type(String type, String field) {
        if (!triggers.containsKey(type)) {
            return new Problem(400, "unknown_event_type", "no function here consumes CloudEvent type '" + type
                    + "'; accepted: " + String.join(", ", triggers.keySet()), field);
        }
        return null;
    }
}
