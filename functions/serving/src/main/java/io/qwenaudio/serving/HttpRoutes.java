package io.qwenaudio.serving;

import io.quarkus.funqy.runtime.FunctionInvoker;
import io.quarkus.funqy.runtime.FunctionRecorder;
import jakarta.enterprise.context.ApplicationScoped;

import java.lang.reflect.Type;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The HTTP routes of this process and the methods each takes: {@code POST /<function>} for every Funqy function,
 * {@code POST /} for CloudEvents, and what other modules add ({@link #add}). Lets the request guard answer an
 * unknown path with 404 and a known path with the wrong method with 405 + {@code Allow}, both as JSON, before any
 * framework answers in its own format. Paths under {@code /q/} (health, metrics) are the platform's and not listed.
 */
@ApplicationScoped
public class HttpRoutes {

    /**
     * A route: the methods it takes, the stage its errors name, what its body is, and whether its errors take OpenAI's
     * shape ({@code {"error": {"message", "type", "param", "code"}}}) instead of {@code Failure}.
     */
    public record Route(Set<String> methods, String stage, String body, boolean openAiErrors) {
        public Route(Set<String> methods, String stage, String body) {
            this(methods, stage, body, false);
        }
    }

    private final Map<String, Route> extra = new ConcurrentHashMap<>();

    /** Adds a route served by another module (e.g. the app's {@code /v1/...}). */
    public void add(String path, String stage, String body, String... methods) {
        extra.put(path, new Route(Set.of(methods), stage, body));
    }

    /** Adds a route of the OpenAI-compatible API: its errors take OpenAI's shape. */
    public void addOpenAi(String path, String body, String... methods) {
        extra.put(path, new Route(Set.of(methods), "openai", body, true));
    }

    /** The route at {@code path}, or null. */
    public Route route(String path) {
        Route r = extra.get(path);
        if (r != null) return r;
        if ("/".equals(path)) {
            return new Route(Set.of("POST"), "events", "a CloudEvent: binary mode (ce-specversion, ce-id, ce-type, ce-source "
                    + "headers and a JSON body) or structured mode (application/cloudevents+json)");
        }
        FunctionInvoker f = function(path);
        if (f == null) return null;
        return new Route(Set.of("POST"), EventTriggers.stage(f.getName()), "a JSON " + simpleName(f.getInputType()));
    }

    /** The Funqy function at {@code path} ({@code /encode}), or null. */
    public static FunctionInvoker function(String path) {
        if (FunctionRecorder.registry == null || path.length() < 2 || path.indexOf('/', 1) >= 0) return null;
        return FunctionRecorder.registry.matchInvoker(path.substring(1));
    }

    /** Every route, path -> methods, for messages. */
    public Map<String, Set<String>> all() {
        Map<String, Set<String>> all = new TreeMap<>();
        all.put("/", Set.of("POST"));
        if (FunctionRecorder.registry != null) {
            for (FunctionInvoker f : FunctionRecorder.registry.invokers()) {
                if (!f.getName().endsWith("-event")) all.put("/" + f.getName(), Set.of("POST"));
            }
        }
        extra.forEach((p, r) -> all.put(p, r.methods()));
        return all;
    }

    /** A short list for messages: {@code POST /encode, POST /embed, ...}. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        all().forEach((p, m) -> {
            if (!b.isEmpty()) b.append(", ");
            b.append(String.join("|", new TreeSet<>(m))).append(' ').append(p);
        });
        return b.toString();
    }

    private static String simpleName(Type t) {
        String n = t == null ? "object" : t.getTypeName();
        int i = Math.max(n.lastIndexOf('.'), n.lastIndexOf('$'));
        return i < 0 ? n : n.substring(i + 1);
    }
}
