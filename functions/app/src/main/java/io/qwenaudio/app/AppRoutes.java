package io.qwenaudio.app;

import io.qwenaudio.serving.HttpRoutes;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;

/** The app's own routes, declared to the request guard (404/405 as JSON, empty bodies refused at once). */
@ApplicationScoped
public class AppRoutes {

    @Inject
    HttpRoutes routes;

    void declare(@Observes @Priority(1) Router router) {
        routes.add("/v1/audio/describe", "describe", "the audio file (audio/wav, audio/flac, audio/mpeg) with options as query "
                + "parameters, or an EncodeRequest as application/json", "POST");
        routes.addOpenAi("/v1/chat/completions", "an OpenAI chat completion request as application/json", "POST");
        routes.addOpenAi("/v1/models", "no body", "GET");
        routes.add("/v1/audio/diagnostics", "diagnostics", "the audio file (audio/wav, audio/flac, audio/mpeg) with options "
                + "as query parameters", "POST");
        routes.add("/v1/audio/environments", "diagnostics", "no body", "GET");
        // the playground page (GET) shares "/" with the CloudEvent entry (POST)
        routes.add("/", "events", "a CloudEvent: binary mode (ce-specversion, ce-id, ce-type, ce-source headers and a "
                + "JSON body) or structured mode (application/cloudevents+json); GET / is the playground page", "GET", "POST");
        for (String asset : new String[] {"/index.html", "/playground.js", "/playground.css"}) {
            routes.add(asset, "playground", "no body", "GET");
        }
    }
}
