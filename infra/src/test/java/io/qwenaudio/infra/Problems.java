package io.qwenaudio.infra;

import java.util.ArrayList;
import java.util.List;

/** Collects every problem a check finds, so one run reports them all; each line names file and field. */
final class Problems {

    private final String title;
    private final List<String> lines = new ArrayList<>();

    Problems(String title) {
        this.title = title;
    }

    void add(String line) {
        lines.add(line);
    }

    /** Records {@code line} when {@code ok} is false. */
    void check(boolean ok, String line) {
        if (!ok) {
            lines.add(line);
        }
    }

    /** Runs a check that throws AssertionError and records its message instead. */
    void run(Runnable check) {
        try {
            check.run();
        } catch (AssertionError e) {
            lines.add(e.getMessage());
        }
    }

    /** The problems found so far. */
    List<String> lines() {
        return List.copyOf(lines);
    }

    boolean isEmpty() {
        return lines.isEmpty();
    }

    void assertNone() {
        if (!lines.isEmpty()) {
            throw new AssertionError(title + ": " + lines.size() + " problem(s)\n  - " + String.join("\n  - ", lines));
        }
    }
}
