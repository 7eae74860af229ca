package io.qwenaudio.app;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.events.EventTypes;
import io.qwenaudio.events.Wire;
import io.qwenaudio.serving.ProcessInfo;
import io.quarkus.funqy.knative.events.CloudEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import io.qwenaudio.serving.ServingConfig;
import io.qwenaudio.serving.ServingSetup;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * After start: logs start-up time and memory, and, when {@code qwen-audio.demo.sample-request} is on, answers one
 * sample request through the whole in-process chain (a synthetic 3 s clip) and logs the answer, so a first run
 * shows the system working end to end.
 */
@ApplicationScoped
public class StartupReport {

    private static final Logger LOG = Logger.getLogger(StartupReport.class.getName());

    @Inject
    InProcessBus bus;

    @Inject
    DemoArtifacts demo;

    @Inject
    ServingConfig config;

    @Inject
    ServingSetup setup;

    @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080")
    int port;

    void report(@Observes @Priority(Integer.MAX_VALUE) StartupEvent e) {
        if (setup.gatewayMode()) {
            LOG.info("qwen-audio gateway ready: " + ProcessInfo.summary() + "; playground: http://localhost:" + port + "/");
            return;
        }
        LOG.info("qwen-audio app ready: " + ProcessInfo.summary() + "; stages encode, adapt, generate on the in-process bus "
                + bus.types());
        LOG.info("playground: open http://localhost:" + port + "/ in a browser");
        if (!config.demo().sampleRequest()) return;
        long t0 = System.nanoTime();
        Wire.GenerateParams p = Wire.GenerateParams.builder().prompt("What does the person say?").maxNewTokens(16)
                .greedy(true).build();
        CloudEvent<Object> out = bus.run(InProcessBus.event(EventTypes.AUDIO_RECEIVED, "startup-sample", null,
                new Wire.EncodeRequest(Base64.getEncoder().encodeToString(SampleAudio.vibratoTone(16_000, 3.0, 220)), null, null, "startup-sample", p)));
        if (out.data() instanceof Wire.TextGenerated t) {
            LOG.info(String.format(Locale.ROOT, "sample request (3 s clip, greedy, 16 tokens) answered in %.0f ms: \"%s\"%s",
                    (System.nanoTime() - t0) / 1e6, t.text(), demo.used() ? " (random: demo model)" : ""));
        } else {
            LOG.warning("sample request failed: " + out.data());
        }
        LOG.info("try: curl -s -X POST --data-binary @speech.wav -H 'content-type: audio/wav' "
                + "'http://localhost:" + port + "/v1/audio/describe?prompt=What+does+the+person+say%3F'");
    }

}
