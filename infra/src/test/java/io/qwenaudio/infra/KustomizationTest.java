package io.qwenaudio.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.knative.eventing.v1.Broker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kustomize layout: {@code base/} and {@code overlays/{cpu,gpu,dev}}; every kustomization's resources and
 * patches exist and every patch patches a resource that exists; no manifest file is left out; the broker class
 * is Kafka except in dev.
 */
class KustomizationTest {

    static final String BROKER_CLASS = "eventing.knative.dev/broker.class";

    static Stream<Path> kustomizationDirs() {
        return Stream.concat(Stream.of(InfraPaths.baseDir()), Contract.OVERLAYS.stream().map(InfraPaths::overlayDir));
    }

    @ParameterizedTest
    @MethodSource("kustomizationDirs")
    void rendersWithEveryReferenceResolved(Path dir) {
        // build() fails naming the kustomization and entry when a resource or patch file is missing, when a patch
        // target selects no resource, or when a strategic-merge patch names a resource that does not exist
        assertTrue(Kustomization.load(dir).build().size() > 0, InfraPaths.display(dir) + " renders no resources");
    }

    @ParameterizedTest
    @MethodSource("kustomizationDirs")
    void everyFileInTheDirectoryIsReferenced(Path dir) throws IOException {
        Kustomization k = Kustomization.load(dir);
        Set<Path> referenced = new HashSet<>(k.resourcePaths());
        k.patches().forEach(p -> referenced.add(p.file()));
        Problems problems = new Problems(k.display());
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !p.getFileName().toString().equals("kustomization.yaml"))
                    .forEach(p -> problems.check(referenced.contains(p.normalize()),
                            InfraPaths.display(p) + " is not listed in " + k.display() + " (resources or patches)"));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        problems.assertNone();
    }

    @ParameterizedTest
    @MethodSource("kustomizationDirs")
    void patchKindMatchesTheEntry(Path dir) {
        // a patch with a target is an RFC 6902 list of operations; one without is a (partial) resource
        Kustomization k = Kustomization.load(dir);
        Problems problems = new Problems(k.display());
        for (Kustomization.Patch p : k.patches()) {
            boolean isOps = !Manifest.readDocuments(p.file()).isEmpty()
                    && Manifest.readDocuments(p.file()).get(0) instanceof ArrayNode;
            problems.check(isOps == (p.target() != null), k.display() + ": patches entry "
                    + InfraPaths.display(p.file()) + (isOps ? " holds JSON patch operations but has no target"
                    : " is a strategic-merge patch but has a target (kustomize would treat it as JSON patch)"));
        }
        problems.assertNone();
    }

    @Test
    void overlaysBuildOnBaseAndDevOnCpu() {
        assertEquals(List.of(InfraPaths.baseDir()), Kustomization.load(InfraPaths.overlayDir("cpu")).resourcePaths(),
                "knative/overlays/cpu/kustomization.yaml: resources");
        assertEquals(List.of(InfraPaths.baseDir()), Kustomization.load(InfraPaths.overlayDir("gpu")).resourcePaths(),
                "knative/overlays/gpu/kustomization.yaml: resources");
        assertEquals(List.of(InfraPaths.overlayDir("cpu")), Kustomization.load(InfraPaths.overlayDir("dev")).resourcePaths(),
                "knative/overlays/dev/kustomization.yaml: resources (dev is the cpu overlay with the in-memory broker)");
    }

    @Test
    void productionBrokersAreKafkaBacked() {
        for (Deployment d : List.of(Deployment.base(), Deployment.overlay("cpu"), Deployment.overlay("gpu"))) {
            assertEquals(1, d.brokers.size(), d + ": expected one Broker, found " + d.brokers.keySet());
            var broker = d.brokers.values().iterator().next();
            assertEquals("Kafka", annotation(broker.resource(), BROKER_CLASS),
                    broker.origin() + ": metadata.annotations[" + BROKER_CLASS + "]");
            var config = broker.resource().getSpec().getConfig();
            assertTrue(config != null && "ConfigMap".equals(config.getKind()),
                    broker.origin() + ": spec.config: expected a ConfigMap with the Kafka topic settings");
            boolean present = d.manifests.stream().anyMatch(m -> m.kind().equals("ConfigMap")
                    && m.name().equals(config.getName())
                    && config.getNamespace().equals(m.tree().path("metadata").path("namespace").asText()));
            assertTrue(present, broker.origin() + ": spec.config names ConfigMap " + config.getNamespace() + "/"
                    + config.getName() + ", which " + d + " does not define");
        }
    }

    @Test
    void devUsesTheInMemoryBroker() {
        Deployment dev = Deployment.overlay("dev");
        var broker = dev.brokers.values().iterator().next();
        assertEquals("MTChannelBasedBroker", annotation(broker.resource(), BROKER_CLASS),
                broker.origin() + ": metadata.annotations[" + BROKER_CLASS + "]");
        assertEquals("config-br-default-channel", broker.resource().getSpec().getConfig().getName(),
                broker.origin() + ": spec.config.name (the channel template ConfigMap; InMemoryChannel by default)");
        assertTrue(dev.manifests.stream().noneMatch(m -> m.name().equals("kafka-broker-config")),
                "knative/overlays/dev: the Kafka broker ConfigMap should be deleted, it is unused there");
    }

    private static String annotation(Broker b, String key) {
        var a = b.getMetadata().getAnnotations();
        return a == null ? null : a.get(key);
    }
}
