package io.qwenaudio.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Where the manifests and the function apps live, and how manifest files are named in messages. */
final class InfraPaths {

    private InfraPaths() {
    }

    /** The infra module directory (holds {@code knative/}); the build passes it, the working directory is the fallback. */
    static Path infraDir() {
        return Path.of(System.getProperty("qwenaudio.infra.dir", ".")).toAbsolutePath().normalize();
    }

    /** The {@code knative/} directory with {@code base/} and {@code overlays/}. */
    static Path knativeDir() {
        return infraDir().resolve("knative");
    }

    static Path baseDir() {
        return knativeDir().resolve("base");
    }

    static Path overlayDir(String overlay) {
        return knativeDir().resolve("overlays").resolve(overlay);
    }

    /** The {@code functions/} directory holding one module per deployable. */
    static Path functionsDir() {
        return Path.of(System.getProperty("qwenaudio.functions.dir", "../functions")).toAbsolutePath().normalize();
    }

    /** A file's name as the messages show it: relative to the infra module, e.g. {@code knative/base/broker.yaml}. */
    static String display(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path root = infraDir().getParent() != null ? infraDir().getParent() : infraDir();
        return abs.startsWith(root) ? root.relativize(abs).toString() : abs.toString();
    }

    /** Every YAML file under a directory, sorted. */
    static Stream<Path> yamlFiles(Path dir) {
        try {
            return Files.walk(dir)
                    .filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted()
                    .toList()
                    .stream();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
