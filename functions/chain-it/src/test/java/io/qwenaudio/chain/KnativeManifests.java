package io.qwenaudio.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The resources of a Knative manifest directory (every YAML document of every file, parsed with the fabric8
 * Kubernetes/Knative model), and the container environment a Knative Service gives its app.
 */
final class KnativeManifests {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final KubernetesSerialization KUBE = new KubernetesSerialization();

    final List<HasMetadata> resources;

    private KnativeManifests(List<HasMetadata> resources) {
        this.resources = List.copyOf(resources);
    }

    static KnativeManifests read(Path dir) {
        List<HasMetadata> out = new ArrayList<>();
        for (Path file : yamlFiles(dir)) {
            for (JsonNode doc : documents(file)) {
                if (!doc.isObject() || !doc.has("kind")) continue;
                if (doc.path("apiVersion").asText().startsWith("kustomize.config.k8s.io/")) continue; // not a resource
                if (KUBE.unmarshal(doc.toString()) instanceof HasMetadata h) out.add(h);
            }
        }
        return new KnativeManifests(out);
    }

    /**
     * The literal environment of the Service's (single) container, with every value under a volume's mount path
     * moved to the local directory given for that volume's PersistentVolumeClaim.
     *
     * @param claimDirs PersistentVolumeClaim name -> local directory standing for it
     */
    Map<String, String> containerEnv(String service, Map<String, Path> claimDirs) {
        Service s = resources.stream().filter(r -> r instanceof Service && r.getMetadata().getName().equals(service))
                .map(Service.class::cast).findFirst()
                .orElseThrow(() -> new IllegalStateException("no Knative Service " + service + " in the manifests"));
        var spec = s.getSpec().getTemplate().getSpec();
        if (spec.getContainers().size() != 1) {
            throw new IllegalStateException("Service " + service + ": expected one container, found " + spec.getContainers().size());
        }
        Container c = spec.getContainers().get(0);
        Map<String, String> mounts = new LinkedHashMap<>(); // mount path -> local dir
        for (VolumeMount m : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
            Volume v = spec.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst().orElseThrow(
                    () -> new IllegalStateException("Service " + service + ": volumeMount " + m.getName() + " has no volume"));
            String claim = v.getPersistentVolumeClaim() == null ? null : v.getPersistentVolumeClaim().getClaimName();
            if (claim != null && claimDirs.containsKey(claim)) mounts.put(m.getMountPath(), claimDirs.get(claim).toString());
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
            if (e.getValue() == null) continue; // valueFrom: nothing to copy locally
            String value = e.getValue();
            for (Map.Entry<String, String> m : mounts.entrySet()) {
                if (value.equals(m.getKey()) || value.startsWith(m.getKey() + "/")) {
                    value = m.getValue() + value.substring(m.getKey().length());
                }
            }
            env.put(e.getName(), value);
        }
        return env;
    }

    private static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the Knative manifests in " + dir, e);
        }
    }

    private static List<JsonNode> documents(Path file) {
        try (var parser = YAML.createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) docs.add(doc);
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": not valid YAML", e);
        }
    }
}
