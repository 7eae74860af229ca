package io.qwenaudio.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Checks on paths given on the command line, failing with a {@link UserInputException} that names the path. */
final class CliFiles {
    private CliFiles() {
    }

    static Path requireReadable(Path p, String what) {
        if (!Files.exists(p)) throw new UserInputException(what + " not found: " + p);
        if (Files.isDirectory(p)) throw new UserInputException(what + " is a directory, expected a file: " + p);
        if (!Files.isReadable(p)) throw new UserInputException(what + " is not readable: " + p);
        return p;
    }

    static Path requireDirectory(Path p, String what) {
        if (!Files.exists(p)) throw new UserInputException(what + " not found: " + p);
        if (!Files.isDirectory(p)) throw new UserInputException(what + " is not a directory: " + p);
        return p;
    }
}
