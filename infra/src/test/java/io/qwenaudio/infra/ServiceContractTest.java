package io.qwenaudio.infra;

import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each app's Knative Service, in base and every overlay, matches the app: container port = quarkus.http.port,
 * probes on its health paths, every environment variable a configuration key of that app, the model volume
 * mounted read-only at the artifacts directory, the blob volume at the blob directory; the same for the gateway
 * (functions/app, no model volume); every Service scales to zero.
 */
class ServiceContractTest {

    static final String MIN_SCALE = "autoscaling.knative.dev/min-scale";

    static Stream<Arguments> deploymentsAndApps() {
        return Stream.concat(Stream.of("base"), Contract.OVERLAYS.stream())
                .flatMap(d -> Contract.APPS.stream().map(a -> Arguments.of(d, a)));
    }

    static Deployment deployment(String name) {
        return name.equals("base") ? Deployment.base() : Deployment.overlay(name);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("deploymentsAndApps")
    void serviceMatchesTheApp(String deploymentName, String appName) {
        Deployment d = deployment(deploymentName);
        var service = d.service(appName).orElseThrow(() -> new AssertionError(d + ": expected a Knative Service named "
                + appName + ", found " + d.services.keySet()));
        Problems problems = new Problems(d + " Service " + appName);
        checkService(d, service, FunctionApp.load(appName), true, problems);
        problems.assertNone();
    }

    static Stream<String> deployments() {
        return Stream.concat(Stream.of("base"), Contract.OVERLAYS.stream());
    }

    /** The gateway runs functions/app, which reads the stage apps' configuration too; it loads no model. */
    @ParameterizedTest
    @MethodSource("deployments")
    void gatewayMatchesTheApp(String deploymentName) {
        Deployment d = deployment(deploymentName);
        var service = d.service(Contract.GATEWAY).orElseThrow(() -> new AssertionError(d
                + ": expected a Knative Service named " + Contract.GATEWAY + ", found " + d.services.keySet()));
        Problems problems = new Problems(d + " Service " + Contract.GATEWAY);
        checkService(d, service, Apps.gateway(), false, problems);
        problems.assertNone();
    }

    /**
     * Port, probes, environment and volumes of one Service against the app it runs; {@code modelStage}: the app
     * loads the model, so the model volume is mounted read-only at QWEN_AUDIO_ARTIFACTS_DIR.
     */
    static void checkService(Deployment d, Deployment.Typed<Service> service, FunctionApp app, boolean modelStage,
            Problems problems) {
        String name = service.resource().getMetadata().getName();
        String where = service.origin() + ": Service " + name + ": spec.template.spec.containers[0]";
        Container c = Deployment.container(service);

        problems.check(c.getImage() != null && !c.getImage().isBlank(), where + ".image: not set");
        var ports = c.getPorts();
        problems.check(ports != null && ports.size() == 1 && ports.get(0).getContainerPort() == app.httpPort(),
                where + ".ports: expected one port " + app.httpPort() + " (quarkus.http.port of " + app.display()
                        + "), found " + (ports == null ? "none" : ports.stream().map(p -> p.getContainerPort()).toList()));
        checkProbe(where + ".readinessProbe", c.getReadinessProbe(), app.readinessPath(), app, problems);
        checkProbe(where + ".livenessProbe", c.getLivenessProbe(), app.livenessPath(), app, problems);

        Map<String, String> env = Deployment.env(c);
        Set<String> names = new HashSet<>();
        for (var e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
            problems.check(names.add(e.getName()), where + ".env: " + e.getName() + " is set twice");
            if (Contract.LAUNCHER_ENV.contains(e.getName())) {
                boolean jvmOptionsOnly = e.getValue() != null && Stream.of(e.getValue().trim().split("\\s+"))
                        .allMatch(o -> o.startsWith("-X") || o.startsWith("-D"));
                problems.check(jvmOptionsOnly, where + ".env[" + e.getName() + "]: expected JVM options (-X..., -D...),"
                        + " found '" + e.getValue() + "'");
                continue;
            }
            Optional<String> key = app.keyForEnv(e.getName(), Contract.MAP_PREFIXES);
            problems.check(key.isPresent(), where + ".env[" + e.getName() + "]: no such configuration key in "
                    + app.display() + " (expected the environment form of one of its keys, e.g. "
                    + FunctionApp.envName("qwen-audio.artifacts-dir") + ")");
        }

        String artifacts = env.get(FunctionApp.envName("qwen-audio.artifacts-dir"));
        if (modelStage) {
            problems.check(artifacts != null, where + ".env: QWEN_AUDIO_ARTIFACTS_DIR not set (the model volume's mount path)");
        }
        if (artifacts != null) {
            Optional<VolumeMount> mount = mountAt(c, artifacts);
            problems.check(mount.isPresent() && Boolean.TRUE.equals(mount.get().getReadOnly()), where
                    + ".volumeMounts: expected a readOnly mount at " + artifacts + " (QWEN_AUDIO_ARTIFACTS_DIR)");
            mount.ifPresent(m -> checkClaimVolume(service, m.getName(), true, d, problems));
        }
        if ("file".equals(env.get("QWEN_AUDIO_PAYLOAD_BLOB_STORE"))) {
            String blobs = env.get("QWEN_AUDIO_PAYLOAD_BLOB_DIR");
            Optional<VolumeMount> mount = blobs == null ? Optional.empty() : mountAt(c, blobs);
            problems.check(mount.isPresent() && !Boolean.TRUE.equals(mount.get().getReadOnly()), where
                    + ".volumeMounts: blob-store is file, expected a writable mount at QWEN_AUDIO_PAYLOAD_BLOB_DIR ("
                    + blobs + ")");
            mount.ifPresent(m -> checkClaimVolume(service, m.getName(), false, d, problems));
        }
        for (VolumeMount m : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
            problems.check(volume(service, m.getName()).isPresent(), where + ".volumeMounts[" + m.getName()
                    + "]: no volume of that name in spec.template.spec.volumes");
        }
    }

    @Test
    void everyServiceScalesToZero() {
        Problems problems = new Problems("min-scale");
        for (Deployment d : Deployment.all()) {
            for (var s : d.services.values()) {
                String value = Deployment.templateAnnotations(s).get(MIN_SCALE);
                problems.check("0".equals(value), s.origin() + ": Service " + s.resource().getMetadata().getName()
                        + ": spec.template.metadata.annotations[" + MIN_SCALE + "]: expected \"0\", found " + value);
            }
        }
        problems.assertNone();
    }

    private static void checkProbe(String where, Probe probe, String path, FunctionApp app, Problems problems) {
        if (probe == null || probe.getHttpGet() == null) {
            problems.add(where + ": expected an httpGet probe on " + path);
            return;
        }
        problems.check(path.equals(probe.getHttpGet().getPath()), where + ".httpGet.path: expected " + path
                + " (SmallRye Health of " + app.display() + "), found " + probe.getHttpGet().getPath());
        var port = probe.getHttpGet().getPort();
        problems.check(port == null || (port.getIntVal() != null && port.getIntVal() == app.httpPort()),
                where + ".httpGet.port: leave unset (Knative probes the serving port) or " + app.httpPort() + ", found " + port);
    }

    static Optional<VolumeMount> mountAt(Container c, String path) {
        return c.getVolumeMounts() == null ? Optional.empty()
                : c.getVolumeMounts().stream().filter(m -> path.equals(m.getMountPath())).findFirst();
    }

    static Optional<Volume> volume(Deployment.Typed<Service> s, String name) {
        var volumes = s.resource().getSpec().getTemplate().getSpec().getVolumes();
        return volumes == null ? Optional.empty() : volumes.stream().filter(v -> name.equals(v.getName())).findFirst();
    }

    private static void checkClaimVolume(Deployment.Typed<Service> s, String volumeName,
            boolean readOnly, Deployment d, Problems problems) {
        String where = s.origin() + ": Service " + s.resource().getMetadata().getName() + ": spec.template.spec.volumes["
                + volumeName + "]";
        Optional<Volume> v = volume(s, volumeName);
        if (v.isEmpty() || v.get().getPersistentVolumeClaim() == null) {
            problems.add(where + ": expected a persistentVolumeClaim volume");
            return;
        }
        var pvc = v.get().getPersistentVolumeClaim();
        problems.check(d.claims.containsKey(pvc.getClaimName()), where + ".persistentVolumeClaim.claimName '"
                + pvc.getClaimName() + "' is not a PersistentVolumeClaim in " + d + " " + d.claims.keySet());
        if (readOnly) {
            problems.check(Boolean.TRUE.equals(pvc.getReadOnly()), where + ".persistentVolumeClaim.readOnly: expected true"
                    + " (the model volume is shared read-only)");
        }
        var claim = d.claims.get(pvc.getClaimName());
        if (claim != null && !d.label.endsWith("dev")) {
            List<String> modes = claim.resource().getSpec().getAccessModes();
            String needed = readOnly ? "ReadOnlyMany" : "ReadWriteMany";
            problems.check(modes != null && (modes.contains(needed) || modes.contains("ReadWriteMany")), claim.origin()
                    + ": PersistentVolumeClaim " + pvc.getClaimName() + ": spec.accessModes: expected " + needed
                    + " (mounted by pods of several stages on several nodes), found " + modes);
        }
    }
}
