package io.qwenaudio.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.zjsonpatch.JsonPatch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A kustomization directory and the subset of kustomize this project uses: {@code resources} (files and other
 * kustomization directories), {@code patches} (RFC 6902 patches with a {@code target}, strategic-merge patches
 * of maps, {@code $patch: delete}), {@code namespace} and {@code labels}. {@link #build()} renders the directory
 * like {@code kubectl kustomize}, and fails with the file and entry at fault when a reference is dangling or a
 * patch has nothing to patch; {@code KubectlKustomizeTest} checks the rendering against kubectl's.
 */
final class Kustomization {

    static final Set<String> SUPPORTED_KEYS = Set.of("apiVersion", "kind", "namespace", "labels", "resources", "patches");

    /** One {@code patches} entry. {@code target} is null for a strategic-merge patch. */
    record Patch(Path file, JsonNode target) {
    }

    final Path dir;
    final Path file;
    final ObjectNode spec;

    private Kustomization(Path dir, Path file, ObjectNode spec) {
        this.dir = dir;
        this.file = file;
        this.spec = spec;
    }

    static Kustomization load(Path dir) {
        Path file = dir.resolve("kustomization.yaml");
        if (!Files.isRegularFile(file)) {
            throw new AssertionError(InfraPaths.display(dir) + ": expected a kustomization.yaml, found none");
        }
        List<JsonNode> docs = Manifest.readDocuments(file);
        if (docs.size() != 1 || !(docs.get(0) instanceof ObjectNode spec)) {
            throw new AssertionError(InfraPaths.display(file) + ": expected one YAML mapping, found " + docs.size()
                    + " documents");
        }
        for (Iterator<String> it = spec.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!SUPPORTED_KEYS.contains(key)) {
                throw new AssertionError(InfraPaths.display(file) + ": field '" + key
                        + "' is not one the manifests use (" + SUPPORTED_KEYS + "); check its spelling");
            }
        }
        if (!"Kustomization".equals(spec.path("kind").asText())) {
            throw new AssertionError(InfraPaths.display(file) + ": kind: expected Kustomization, found '"
                    + spec.path("kind").asText() + "'");
        }
        return new Kustomization(dir, file, spec);
    }

    String display() {
        return InfraPaths.display(file);
    }

    /** The {@code resources} entries resolved against this directory (files or directories). */
    List<Path> resourcePaths() {
        List<Path> out = new ArrayList<>();
        for (JsonNode r : spec.path("resources")) {
            out.add(dir.resolve(r.asText()).normalize());
        }
        return out;
    }

    /** The {@code patches} entries; each must name a file with {@code path}. */
    List<Patch> patches() {
        List<Patch> out = new ArrayList<>();
        int i = 0;
        for (JsonNode p : spec.path("patches")) {
            if (!p.hasNonNull("path")) {
                throw new AssertionError(display() + ": patches[" + i + "]: expected 'path' naming a patch file, found "
                        + p);
            }
            out.add(new Patch(dir.resolve(p.get("path").asText()).normalize(), p.get("target")));
            i++;
        }
        return out;
    }

    /** Renders the directory: resources, then patches in order, then namespace and labels. */
    List<Manifest> build() {
        List<Manifest> resources = new ArrayList<>();
        List<Path> paths = resourcePaths();
        for (int i = 0; i < paths.size(); i++) {
            Path p = paths.get(i);
            String where = display() + ": resources[" + i + "] '" + spec.path("resources").get(i).asText() + "'";
            if (Files.isDirectory(p)) {
                resources.addAll(load(p).build());
            } else if (Files.isRegularFile(p)) {
                resources.addAll(Manifest.readResources(p));
            } else {
                throw new AssertionError(where + ": no such file or directory (" + InfraPaths.display(p) + ")");
            }
        }
        checkUnique(resources);
        List<Patch> patches = patches();
        for (int i = 0; i < patches.size(); i++) {
            Patch patch = patches.get(i);
            String where = display() + ": patches[" + i + "] '" + spec.path("patches").get(i).path("path").asText() + "'";
            if (!Files.isRegularFile(patch.file())) {
                throw new AssertionError(where + ": no such file (" + InfraPaths.display(patch.file()) + ")");
            }
            if (patch.target() != null) {
                applyJsonPatch(resources, patch, where);
            } else {
                applyStrategicMerge(resources, patch, where);
            }
        }
        String namespace = spec.path("namespace").asText("");
        List<Manifest> out = new ArrayList<>();
        for (Manifest m : resources) {
            ObjectNode tree = m.tree().deepCopy();
            ObjectNode meta = tree.withObjectProperty("metadata");
            if (!namespace.isEmpty() && !"Namespace".equals(m.kind())) {
                meta.put("namespace", namespace);
            }
            for (JsonNode label : spec.path("labels")) {
                for (var e : label.path("pairs").properties()) {
                    meta.withObjectProperty("labels").set(e.getKey(), e.getValue());
                }
            }
            out.add(new Manifest(m.origin(), tree));
        }
        return out;
    }

    private void checkUnique(List<Manifest> resources) {
        Set<String> seen = new LinkedHashSet<>();
        for (Manifest m : resources) {
            if (!seen.add(m.apiVersion() + " " + m.id())) {
                throw new AssertionError(display() + ": " + m.id() + " is defined twice (again in " + m.origin() + ")");
            }
        }
    }

    /** A target selects resources by kind and name (and group/version when given); it must select exactly one. */
    private static void applyJsonPatch(List<Manifest> resources, Patch patch, String where) {
        JsonNode target = patch.target();
        List<Integer> hits = new ArrayList<>();
        for (int i = 0; i < resources.size(); i++) {
            Manifest m = resources.get(i);
            if (matches(target, "kind", m.kind()) && matches(target, "name", m.name())
                    && matches(target, "group", m.group()) && matches(target, "version", m.version())) {
                hits.add(i);
            }
        }
        if (hits.size() != 1) {
            throw new AssertionError(where + ": target " + target + " must select exactly one resource, selects "
                    + hits.size() + " (resources: " + resources.stream().map(Manifest::id).toList() + ")");
        }
        List<JsonNode> docs = Manifest.readDocuments(patch.file());
        if (docs.size() != 1 || !(docs.get(0) instanceof ArrayNode ops)) {
            throw new AssertionError(where + ": a patch with a target must hold one list of RFC 6902 operations");
        }
        Manifest m = resources.get(hits.get(0));
        JsonNode result;
        try {
            result = JsonPatch.apply(ops, m.tree());
        } catch (RuntimeException e) {
            throw new AssertionError(where + ": does not apply to " + m + ": " + e.getMessage(), e);
        }
        resources.set(hits.get(0), m.patched((ObjectNode) result, InfraPaths.display(patch.file())));
    }

    private static boolean matches(JsonNode target, String field, String value) {
        return !target.hasNonNull(field) || target.get(field).asText().equals(value);
    }

    /** Each document patches the resource with its apiVersion, kind and name: maps merge, lists and scalars replace. */
    private static void applyStrategicMerge(List<Manifest> resources, Patch patch, String where) {
        for (Manifest doc : Manifest.readResources(patch.file())) {
            int index = -1;
            for (int i = 0; i < resources.size(); i++) {
                Manifest m = resources.get(i);
                if (m.apiVersion().equals(doc.apiVersion()) && m.kind().equals(doc.kind())
                        && m.name().equals(doc.name())) {
                    index = i;
                }
            }
            if (index < 0) {
                throw new AssertionError(where + ": " + doc.origin() + " patches " + doc.apiVersion() + " " + doc.id()
                        + ", which no resource defines (resources: " + resources.stream().map(Manifest::id).toList() + ")");
            }
            if ("delete".equals(doc.tree().path("$patch").asText())) {
                resources.remove(index);
                continue;
            }
            ObjectNode merged = resources.get(index).tree().deepCopy();
            merge(merged, doc.tree());
            resources.set(index, resources.get(index).patched(merged, doc.origin()));
        }
    }

    private static void merge(ObjectNode into, JsonNode patch) {
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            JsonNode old = into.get(e.getKey());
            if (e.getValue().isNull()) {
                into.remove(e.getKey());
            } else if (old instanceof ObjectNode oldObj && e.getValue().isObject()) {
                merge(oldObj, e.getValue());
            } else {
                into.set(e.getKey(), e.getValue().deepCopy());
            }
        }
    }
}
