package io.qwenaudio.chain;

import io.qwenaudio.testing.TinyModel;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A deployable started with a bad setting stops at start, with a message naming the key: the packaged stage
 * processes, as a platform would start them.
 */
class ConfigValidationIT {

    static final String ENCODE = System.getProperty("chain.encode.jar");
    static final String ADAPT = System.getProperty("chain.adapt.jar");
    static final String APP = System.getProperty("chain.app.jar");

    /** Runs a jar with {@code -D} settings until it exits (it must, within a minute); returns its exit code and output. */
    static String[] run(String jar, String... settings) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dquarkus.http.port=0"));
        for (String s : settings) cmd.add("-D" + s);
        cmd.addAll(List.of("-jar", jar));
        Path log = Files.createTempFile("config-validation", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean stopped = p.waitFor(60, TimeUnit.SECONDS);
        if (!stopped) p.destroyForcibly().waitFor();
        String out = Files.readString(log);
        Files.delete(log);
        assertTrue(stopped, "the process must stop by itself on a bad setting: " + List.of(settings)
                + "\n" + out);
        return new String[] {String.valueOf(p.exitValue()), out};
    }

    static void assertRefused(String[] r, String key, String also) {
        assertNotEquals("0", r[0], r[1]);
        assertTrue(r[1].contains(key), "the message must name " + key + ":\n" + r[1]);
        assertTrue(r[1].contains(also), "the message must say " + also + ":\n" + r[1]);
    }

    @Test
    void badSettingsStopTheProcessNamingTheKey() throws Exception {
        String art = "qwen-audio.artifacts-dir=" + TinyModel.get().artifacts;
        assertRefused(run(ENCODE), "qwen-audio.artifacts-dir", "qwen-audio convert");
        assertRefused(run(ENCODE, "qwen-audio.artifacts-dir=/nonexistent/models"), "qwen-audio.artifacts-dir", "manifest.json");
        assertRefused(run(ENCODE, art, "qwen-audio.runtime.execution-provider=tpu"), "qwen-audio.runtime.execution-provider",
                "accepted: cpu, cuda");
        assertRefused(run(ENCODE, art, "qwen-audio.runtime.execution-provider=cuda"), "qwen-audio.runtime.fallback-to-cpu",
                "CUDA");
        assertRefused(run(ENCODE, art, "qwen-audio.encode.max-batch=0"), "qwen-audio.encode.max-batch", ">= 1");
        assertRefused(run(ENCODE, art, "qwen-audio.encode.max-bach=8"), "qwen-audio.encode.max-bach", "does not map");
        assertRefused(run(ENCODE, art, "qwen-audio.payload.blob-store=s3"), "qwen-audio.payload.blob-store",
                "accepted: memory, file, none");
        assertRefused(run(ADAPT, art, "qwen-audio.adapt.environments.ldv=adapters/nope"), "qwen-audio.adapt.environments.ldv",
                "adapters/ldv");
        assertRefused(run(ENCODE, art, "qwen-audio.events.reply-attribute=correlationid"), "qwen-audio.events.reply-attribute",
                "taken");
        assertRefused(run(ENCODE, art, "qwen-audio.events.reply-correlation-attribute=Reply-Id"),
                "qwen-audio.events.reply-correlation-attribute", "lower-case");
    }

    @Test
    void aGatewayWithoutItsRequestReplyStopsNamingTheKey() throws Exception {
        String noDemo = "qwen-audio.demo.sample-request=false";
        assertRefused(run(APP, "qwen-audio.mode=cloud", noDemo), "qwen-audio.mode", "accepted: embedded, gateway");
        assertRefused(run(APP, "qwen-audio.mode=gateway", noDemo), "qwen-audio.gateway.request-reply-url",
                "QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL");
        assertRefused(run(APP, "qwen-audio.mode=gateway", noDemo, "qwen-audio.gateway.request-reply-url=ftp://x/y/z"),
                "qwen-audio.gateway.request-reply-url", "http(s)");
        assertRefused(run(APP, "qwen-audio.mode=gateway", noDemo, "qwen-audio.gateway.request-reply-url=http://rr/ns/name",
                "qwen-audio.gateway.timeout=0s"), "qwen-audio.gateway.timeout", "positive");
    }
}
