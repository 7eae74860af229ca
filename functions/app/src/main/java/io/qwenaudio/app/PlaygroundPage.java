package io.qwenaudio.app;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Serves the playground page ({@code META-INF/resources/index.html}, {@code playground.js},
 * {@code playground.css}) at {@code GET /}. Its own routes, ahead of the Funqy handler that takes {@code /} for
 * CloudEvents: a {@code POST /} is still an event. The assets are read once from the class path.
 */
@ApplicationScoped
public class PlaygroundPage {

    private static final Map<String, String> ASSETS = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/playground.js", "playground.js",
            "/playground.css", "playground.css");

    void install(@Observes Router router) {
        for (Map.Entry<String, String> a : ASSETS.entrySet()) {
            byte[] body = read(a.getValue());
            String type = a.getValue().endsWith(".js") ? "text/javascript; charset=utf-8"
                    : a.getValue().endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
            router.get(a.getKey()).order(-20).handler(ctx -> send(ctx, type, body));
        }
    }

    private static void send(RoutingContext ctx, String type, byte[] body) {
        ctx.response().putHeader("content-type", type).putHeader("cache-control", "no-cache")
                .end(io.vertx.core.buffer.Buffer.buffer(body));
    }

    private static byte[] read(String name) {
        String path = "META-INF/resources/" + name;
        try (InputStream in = PlaygroundPage.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("the playground asset " + path + " is missing from the app jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the playground asset " + path, e);
        }
    }
}
