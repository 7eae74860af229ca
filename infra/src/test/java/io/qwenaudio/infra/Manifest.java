package io.qwenaudio.infra;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One YAML document of a manifest file as a JSON tree, with where it came from ({@code file#document}, plus the
 * overlay patches applied to it) so that every failure message names the file.
 */
record Manifest(String origin, ObjectNode tree) {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Reads every non-empty document of a YAML file. Documents must be mappings (resources) or sequences (patches). */
    static List<JsonNode> readDocuments(Path file) {
        try (var parser = YAML.createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new AssertionError(InfraPaths.display(file) + ": not valid YAML: " + e.getMessage(), e);
        }
    }

    /** Reads a file of Kubernetes resources: each document must be a mapping. */
    static List<Manifest> readResources(Path file) {
        List<JsonNode> docs = readDocuments(file);
        List<Manifest> out = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            String origin = InfraPaths.display(file) + "#" + (i + 1);
            if (!(docs.get(i) instanceof ObjectNode obj)) {
                throw new AssertionError(origin + ": expected a Kubernetes resource (a YAML mapping), found "
                        + docs.get(i).getNodeType());
            }
            out.add(new Manifest(origin, obj));
        }
        return out;
    }

    String apiVersion() {
        return tree.path("apiVersion").asText("");
    }

    String kind() {
        return tree.path("kind").asText("");
    }

    String name() {
        return tree.path("metadata").path("name").asText("");
    }

    /** {@code kind/name}, e.g. {@code Service/encode-function}. */
    String id() {
        return kind() + "/" + name();
    }

    /** API group of {@link #apiVersion()} ("" for the core group). */
    String group() {
        String v = apiVersion();
        int slash = v.indexOf('/');
        return slash < 0 ? "" : v.substring(0, slash);
    }

    String version() {
        String v = apiVersion();
        int slash = v.indexOf('/');
        return slash < 0 ? v : v.substring(slash + 1);
    }

    /** A copy with a deep-copied tree and a longer origin. */
    Manifest patched(ObjectNode newTree, String by) {
        return new Manifest(origin + " + " + by, newTree);
    }

    @Override
    public String toString() {
        return id() + " (" + origin + ")";
    }
}
