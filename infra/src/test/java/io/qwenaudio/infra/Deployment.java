package io.qwenaudio.infra;

import io.fabric8.knative.eventing.v1.Broker;
import io.fabric8.knative.eventing.v1.Trigger;
import io.fabric8.knative.eventing.v1alpha1.RequestReply;
import io.fabric8.knative.sources.v1.SinkBinding;
import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A rendered kustomization (base or an overlay) as typed model objects, each remembering the manifest it came
 * from, with the look-ups the checks need.
 */
final class Deployment {

    /** A typed resource and its manifest (for messages). */
    record Typed<T extends HasMetadata>(Manifest manifest, T resource) {
        String origin() {
            return manifest.origin();
        }
    }

    final String label;
    final List<Manifest> manifests;
    final Map<String, Typed<Service>> services = new LinkedHashMap<>();
    final Map<String, Typed<Trigger>> triggers = new LinkedHashMap<>();
    final Map<String, Typed<Broker>> brokers = new LinkedHashMap<>();
    final Map<String, Typed<PersistentVolumeClaim>> claims = new LinkedHashMap<>();
    final Map<String, Typed<RequestReply>> requestReplies = new LinkedHashMap<>();
    final Map<String, Typed<SinkBinding>> sinkBindings = new LinkedHashMap<>();

    private Deployment(String label, List<Manifest> manifests) {
        this.label = label;
        this.manifests = manifests;
        for (Manifest m : manifests) {
            HasMetadata h = KubeModel.typed(m);
            if (h instanceof Service s) {
                services.put(m.name(), new Typed<>(m, s));
            } else if (h instanceof Trigger t) {
                triggers.put(m.name(), new Typed<>(m, t));
            } else if (h instanceof Broker b) {
                brokers.put(m.name(), new Typed<>(m, b));
            } else if (h instanceof PersistentVolumeClaim c) {
                claims.put(m.name(), new Typed<>(m, c));
            } else if (h instanceof RequestReply r) {
                requestReplies.put(m.name(), new Typed<>(m, r));
            } else if (h instanceof SinkBinding b) {
                sinkBindings.put(m.name(), new Typed<>(m, b));
            }
        }
    }

    /** Renders a kustomization directory, e.g. {@code knative/overlays/gpu}. */
    static Deployment of(Path dir) {
        return new Deployment(InfraPaths.display(dir), Kustomization.load(dir).build());
    }

    /** Manifests already rendered (the checker's self-tests build broken copies this way). */
    static Deployment of(String label, List<Manifest> manifests) {
        return new Deployment(label, manifests);
    }

    private static final Map<Path, Deployment> CACHE = new ConcurrentHashMap<>();

    static Deployment base() {
        return CACHE.computeIfAbsent(InfraPaths.baseDir(), Deployment::of);
    }

    static Deployment overlay(String name) {
        return CACHE.computeIfAbsent(InfraPaths.overlayDir(name), Deployment::of);
    }

    /** Base and every overlay: the checks that hold everywhere run on each. */
    static List<Deployment> all() {
        List<Deployment> out = new ArrayList<>();
        out.add(base());
        for (String o : Contract.OVERLAYS) {
            out.add(overlay(o));
        }
        return out;
    }

    /** The single container of a Knative Service (Knative serves one container per revision here). */
    static Container container(Typed<Service> s) {
        List<Container> containers = s.resource().getSpec().getTemplate().getSpec().getContainers();
        if (containers == null || containers.size() != 1) {
            throw new AssertionError(s.origin() + ": spec.template.spec.containers: expected exactly one container, found "
                    + (containers == null ? 0 : containers.size()));
        }
        return containers.get(0);
    }

    /** A container's environment as name -> value (plain values only). */
    static Map<String, String> env(Container c) {
        Map<String, String> out = new LinkedHashMap<>();
        if (c.getEnv() != null) {
            for (EnvVar e : c.getEnv()) {
                out.put(e.getName(), e.getValue());
            }
        }
        return out;
    }

    static Map<String, String> templateAnnotations(Typed<Service> s) {
        var meta = s.resource().getSpec().getTemplate().getMetadata();
        return meta == null || meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
    }

    Optional<Typed<Service>> service(String name) {
        return Optional.ofNullable(services.get(name));
    }

    @Override
    public String toString() {
        return label;
    }
}
