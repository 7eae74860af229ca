package io.qwenaudio.infra;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every manifest file parses with the fabric8 Kubernetes/Knative model into a known kind, with no field the
 * model does not recognise; RFC 6902 patch files hold well-formed operations; and every rendered kustomization
 * (base and overlays) still parses cleanly after its patches.
 */
class ManifestParsingTest {

    static final Set<String> JSON_PATCH_OPS = Set.of("add", "remove", "replace", "move", "copy", "test");

    static Stream<Path> manifestFiles() {
        return InfraPaths.yamlFiles(InfraPaths.knativeDir())
                .filter(p -> !p.getFileName().toString().equals("kustomization.yaml"));
    }

    @Test
    void thereAreManifests() {
        List<Path> files = manifestFiles().toList();
        assertFalse(files.isEmpty(), "expected manifests under " + InfraPaths.display(InfraPaths.knativeDir()));
    }

    @TestFactory
    Stream<DynamicTest> everyManifestFileParses() {
        return manifestFiles().map(file -> DynamicTest.dynamicTest(InfraPaths.display(file), () -> {
            List<JsonNode> docs = Manifest.readDocuments(file);
            Problems problems = new Problems(InfraPaths.display(file));
            problems.check(!docs.isEmpty(), InfraPaths.display(file) + ": no YAML documents");
            if (!docs.isEmpty() && docs.get(0) instanceof ArrayNode) {
                checkJsonPatch(file, docs, problems);
            } else {
                boolean overlay = file.startsWith(InfraPaths.knativeDir().resolve("overlays"));
                for (Manifest m : Manifest.readResources(file)) {
                    problems.run(() -> {
                        var typed = KubeModel.typed(m);
                        for (String field : KubeModel.unknownFields(typed, overlay ? Set.of("$patch") : Set.of())) {
                            problems.add(m.origin() + ": " + m.id() + ": field '" + field
                                    + "' is not part of " + m.apiVersion() + " " + m.kind()
                                    + " (misspelled, or a value of the wrong type)");
                        }
                    });
                }
            }
            problems.assertNone();
        }));
    }

    private static void checkJsonPatch(Path file, List<JsonNode> docs, Problems problems) {
        String name = InfraPaths.display(file);
        problems.check(docs.size() == 1, name + ": a JSON patch file holds one list of operations, found "
                + docs.size() + " documents");
        int i = 0;
        for (JsonNode op : docs.get(0)) {
            String where = name + ": [" + i++ + "]";
            String kind = op.path("op").asText("");
            problems.check(JSON_PATCH_OPS.contains(kind), where + ".op: expected one of " + JSON_PATCH_OPS
                    + ", found '" + kind + "'");
            problems.check(op.path("path").asText("").startsWith("/"), where + ".path: expected a JSON pointer"
                    + " starting with '/', found '" + op.path("path").asText("") + "'");
            if (Set.of("add", "replace", "test").contains(kind)) {
                problems.check(op.has("value"), where + ": '" + kind + "' needs a value");
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyRenderedResourceParses() {
        Stream<Path> dirs = Stream.concat(Stream.of(InfraPaths.baseDir()),
                Contract.OVERLAYS.stream().map(InfraPaths::overlayDir));
        return dirs.map(dir -> DynamicTest.dynamicTest(InfraPaths.display(dir), () -> {
            Problems problems = new Problems("rendered " + InfraPaths.display(dir));
            for (Manifest m : Kustomization.load(dir).build()) {
                problems.run(() -> {
                    for (String field : KubeModel.unknownFields(KubeModel.typed(m), Set.of())) {
                        problems.add(m.origin() + ": " + m.id() + ": field '" + field + "' is not part of "
                                + m.apiVersion() + " " + m.kind() + " after patching");
                    }
                });
            }
            problems.assertNone();
        }));
    }
}
