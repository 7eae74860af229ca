package io.qwenaudio.app;

import io.quarkus.runtime.annotations.RegisterForReflection;

/** Registers the OpenAI request records Jackson binds, so a native image reads them as the JVM build does. */
@RegisterForReflection(targets = {OpenAiApi.ChatRequest.class, OpenAiApi.Message.class, OpenAiApi.Part.class,
        OpenAiApi.InputAudio.class, OpenAiApi.StreamOptions.class})
final class AppReflection {
    private AppReflection() {
    }
}
