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

    /**
     * An output file the command will write: its directory must exist and be writable, and it must not be a
     * directory itself. {@code flag} names the option, e.g. {@code --out}.
     */
    static Path requireWritableFile(Path p, String flag) {
        if (Files.isDirectory(p)) throw new UserInputException(flag + " is a directory, expected a file path: " + p);
        Path dir = p.toAbsolutePath().getParent();
        if (dir != null) {
            if (!Files.exists(dir)) throw new UserInputException(flag + ": directory " + dir + " does not exist; create it first");
            if (!Files.isDirectory(dir)) throw new UserInputException(flag + ": " + dir + " is not a directory");
            if (!Files.isWritable(dir)) throw new UserInputException(flag + ": directory " + dir + " is not writable");
        }
        if (Files.exists(p) && !Files.isWritable(p)) throw new UserInputException(flag + ": " + p + " is not writable");
        return p;
    }

    /**
     * An output directory the command creates (or fills when it exists): it must be a directory if it exists, else
     * its nearest existing ancestor must be a writable directory.
     */
    static Path requireCreatableDirectory(Path p, String flag) {
        if (Files.exists(p)) {
            if (!Files.isDirectory(p)) throw new UserInputException(flag + " is a file, expected a directory: " + p);
            if (!Files.isWritable(p)) throw new UserInputException(flag + ": directory " + p + " is not writable");
            return p;
        }
        Path a = p.toAbsolutePath().getParent();
        while (a != null && !Files.exists(a)) a = a.getParent();
        if (a != null && !Files.isDirectory(a)) {
            throw new UserInputException(flag + ": cannot create " + p + " because " + a + " is a file, not a directory");
        }
        if (a != null && !Files.isWritable(a)) {
            throw new UserInputException(flag + ": cannot create " + p + " because directory " + a + " is not writable");
        }
        return p;
    }

    static Path requireDirectory(Path p, String what) {
        if (!Files.exists(p)) throw new UserInputException(what + " not found: " + p);
        if (!Files.isDirectory(p)) throw new UserInputException(what + " is not a directory: " + p);
        return p;
    }
}
