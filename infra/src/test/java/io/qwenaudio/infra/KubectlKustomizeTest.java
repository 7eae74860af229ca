package io.qwenaudio.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.qwenaudio.testtools.ExternalTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tests' own rendering of base and overlays ({@link Kustomization#build()}) equals {@code kubectl kustomize},
 * so the checks run on what the cluster would get. Needs kubectl ({@link ExternalTool}: skipped without it
 * locally, a failure in CI).
 */
class KubectlKustomizeTest {

    static Stream<Path> kustomizationDirs() {
        return KustomizationTest.kustomizationDirs();
    }

    @ParameterizedTest
    @MethodSource("kustomizationDirs")
    void renderingMatchesKubectl(Path dir) throws Exception {
        ExternalTool.KUBECTL.require();
        Path out = Files.createTempFile("kustomize", ".yaml");
        try {
            Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString())
                    .redirectErrorStream(false)
                    .redirectOutput(out.toFile())
                    .start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize " + InfraPaths.display(dir) + " did not finish in 60 s");
            assertEquals(0, p.exitValue(), "kubectl kustomize " + InfraPaths.display(dir) + " failed: " + err);
            Map<String, JsonNode> expected = byId(Manifest.readDocuments(out));
            List<JsonNode> ours = new ArrayList<>();
            Kustomization.load(dir).build().forEach(m -> ours.add(m.tree()));
            Map<String, JsonNode> actual = byId(ours);
            assertEquals(expected.keySet(), actual.keySet(), InfraPaths.display(dir) + ": resources rendered");
            for (String id : expected.keySet()) {
                assertEquals(expected.get(id), actual.get(id), InfraPaths.display(dir) + ": " + id
                        + " differs between kubectl kustomize and the tests' rendering");
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Map<String, JsonNode> byId(List<JsonNode> docs) {
        Map<String, JsonNode> out = new TreeMap<>();
        for (JsonNode d : docs) {
            out.put(d.path("apiVersion").asText() + " " + d.path("kind").asText() + "/"
                    + d.path("metadata").path("name").asText(), d);
        }
        return out;
    }
}
