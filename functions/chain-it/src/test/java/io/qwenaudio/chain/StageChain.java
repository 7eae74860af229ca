package io.qwenaudio.chain;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The three packaged stage apps (encode, adapt, generate) on one set of model artifacts, each started with the
 * container {@code env} of its Knative Service in {@code infra/knative/base} (the models volume moved to the
 * given artifacts, the blob volume to a local directory), plus the routing of that directory's Triggers.
 * Processes are started one at a time so each cold start is measured alone.
 */
final class StageChain implements AutoCloseable {

    static final String ENCODE = "encode-function";
    static final String ADAPT = "adapt-function";
    static final String GENERATE = "generate-function";
    static final String RESULTS = "pipeline-results";
    /** The PersistentVolumeClaims of the manifests: the converted model and the shared claim-check store. */
    static final String MODELS_CLAIM = "qwen-audio-models";
    static final String BLOBS_CLAIM = "qwen-audio-blobs";

    final KnativeManifests manifests;
    final KnativeRoutes routes;
    /** Service name -> its process, in start order. */
    final Map<String, StageProcess> stages = new LinkedHashMap<>();
    /** Service name -> the env it was given. */
    final Map<String, Map<String, String>> env = new LinkedHashMap<>();
    /** Service name -> cold start (process start to ready) in ms. */
    final Map<String, Long> coldStartMillis = new LinkedHashMap<>();
    final Path blobDir;

    /**
     * Starts the three stage processes on {@code artifacts}; logs and the blob directory go under {@code work}.
     *
     * @param properties extra system properties for every stage process
     */
    StageChain(Path artifacts, Path work, Map<String, String> properties) throws IOException {
        blobDir = Files.createDirectories(work.resolve("blobs"));
        try (var old = Files.list(blobDir)) {
            for (Path f : old.toList()) Files.delete(f);
        }
        manifests = KnativeManifests.read(knativeDir());
        routes = KnativeRoutes.of(manifests.resources);
        Map<String, Path> claims = Map.of(MODELS_CLAIM, artifacts, BLOBS_CLAIM, blobDir);
        try {
            for (String service : List.of(ENCODE, ADAPT, GENERATE)) {
                Map<String, String> e = manifests.containerEnv(service, claims);
                if (!artifacts.toString().equals(e.get("QWEN_AUDIO_ARTIFACTS_DIR"))) {
                    throw new IllegalStateException(service + ": QWEN_AUDIO_ARTIFACTS_DIR " + e.get("QWEN_AUDIO_ARTIFACTS_DIR")
                            + " does not lie on the " + MODELS_CLAIM + " volume mount");
                }
                env.put(service, e);
                StageProcess p = new StageProcess(service, jar(service), e, properties, work);
                stages.put(service, p);
                coldStartMillis.put(service, p.start());
            }
        } catch (RuntimeException ex) {
            close();
            throw ex;
        }
    }

    StageProcess get(String service) {
        return stages.get(service);
    }

    /** A broker over these processes, the Triggers' backoff and timeouts multiplied by the given factors. */
    LocalBroker broker(double backoffScale, double timeoutScale) {
        return broker(backoffScale, timeoutScale, Map.of());
    }

    /** As {@link #broker(double, double)}, with more Services (name -> address), e.g. the gateway as dead-letter sink. */
    LocalBroker broker(double backoffScale, double timeoutScale, Map<String, URI> more) {
        Map<String, URI> services = new HashMap<>(more);
        stages.forEach((name, p) -> services.put(name, p.uri()));
        return new LocalBroker(routes, services, RESULTS, backoffScale, timeoutScale);
    }

    /** The Knative Service of the front door. */
    static final String GATEWAY = "gateway";

    /**
     * The app in gateway mode with the container env of the manifests' {@code gateway} Service (not started): the
     * blobs volume on this chain's blob directory, the RequestReply address and the Broker address ({@code K_SINK},
     * as the SinkBinding injects it) on {@code broker}'s HTTP ingress, and registered with {@code broker} as the
     * Service the dead letters go to.
     */
    StageProcess gateway(LocalBroker broker, Path work) throws IOException {
        Map<String, String> e = new LinkedHashMap<>(manifests.containerEnv(GATEWAY, Map.of(BLOBS_CLAIM, blobDir)));
        URI rr = URI.create(e.getOrDefault("QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL", ""));
        if (routes.requestReply == null || !routes.requestReply.path().equals(rr.getPath())) {
            throw new IllegalStateException("the gateway's QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL " + rr + " does not name the "
                    + "manifests' RequestReply " + (routes.requestReply == null ? "(none)" : routes.requestReply.path()));
        }
        e.put("QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL", broker.requestReplyAddress().toString());
        e.put("K_SINK", broker.ingress().toString());
        env.put(GATEWAY, e);
        StageProcess p = new StageProcess(GATEWAY, appJar(), e, Map.of("qwen-audio.demo.sample-request", "false"), work);
        broker.service(GATEWAY, p.uri());
        return p;
    }

    /** {@code QWEN_AUDIO_ADAPT_ENVIRONMENTS_LDV=adapters/ldv} of the adapt Service -> {@code ldv -> adapters/ldv}. */
    Map<String, String> adapterEnvironments() {
        String prefix = "QWEN_AUDIO_ADAPT_ENVIRONMENTS_";
        Map<String, String> out = new LinkedHashMap<>();
        env.get(ADAPT).forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()).toLowerCase(Locale.ROOT), v);
        });
        return out;
    }

    @Override
    public void close() {
        for (StageProcess p : stages.values()) {
            if (p.alive()) p.resume(); // a stopped JVM would not get the SIGKILL's exit reaped promptly
            p.close();
        }
    }

    static Path knativeDir() {
        return Path.of(System.getProperty("chain.knative.dir", "../../infra/knative/base"));
    }

    static Path workDir(String name) {
        return Path.of(System.getProperty("chain.work.dir", "target/chain")).toAbsolutePath().resolve(name);
    }

    /** The runnable jar of a function module ({@code chain.<stage>.jar}, as the pom sets it). */
    static Path jar(String service) {
        String stage = service.substring(0, service.indexOf('-'));
        return Path.of(System.getProperty("chain." + stage + ".jar",
                "../" + service + "/target/quarkus-app/quarkus-run.jar")).toAbsolutePath().normalize();
    }

    /** The runnable jar of the one-process app ({@code chain.app.jar}). */
    static Path appJar() {
        return Path.of(System.getProperty("chain.app.jar", "../app/target/quarkus-app/quarkus-run.jar"))
                .toAbsolutePath().normalize();
    }

    /** The one-process app on {@code artifacts}, environment {@code ldv} on {@code adapters/ldv}, no demo request. */
    static StageProcess app(Path artifacts, Path work, Map<String, String> extra) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("qwen-audio.artifacts-dir", artifacts.toString());
        props.put("qwen-audio.adapt.environments.ldv", "adapters/ldv");
        props.put("qwen-audio.demo.sample-request", "false");
        props.putAll(extra);
        return new StageProcess("app", appJar(), Map.of(), props, work);
    }
}
