package io.qwenaudio.testtools;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The programs outside the JVM that tests call, and the one policy when one is missing: the test is skipped
 * (a JUnit assumption) on a developer's machine and fails when the environment variable {@code CI} is
 * {@code true}, so a CI run never passes by skipping. {@code .ci/run} installs every tool listed here.
 */
public enum ExternalTool {

    SOX("sox and its format handlers", "sox libsox-fmt-all", "sox", "--version"),
    ESPEAK_NG("espeak-ng", "espeak-ng", "espeak-ng", "--version"),
    FFMPEG("ffmpeg", "ffmpeg", "ffmpeg", "-version"),
    PYTHON_NUMPY("python3 with numpy", "python3 python3-numpy", "python3", "-c", "import numpy"),
    NODE("Node.js and npm", "nodejs npm", "npm", "--version"),
    KUBECTL("kubectl", "kubectl", "kubectl", "version", "--client"),
    CHROMIUM("Chromium and its driver (the playground's browser test)", "chromium chromium-driver", "chromedriver", "--version");

    private static final Map<ExternalTool, String> PROBED = new ConcurrentHashMap<>();

    private final String what;
    private final String debianPackages;
    private final List<String> probe;

    ExternalTool(String what, String debianPackages, String... probe) {
        this.what = what;
        this.debianPackages = debianPackages;
        this.probe = List.of(probe);
    }

    /** True when the tests run in CI ({@code CI=true}, as CI services and {@code .ci/run} set it). */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * Returns when the tool runs; otherwise skips the calling test, or fails it in CI. The probe (the tool's
     * version command) runs once per JVM.
     */
    public void require() {
        String problem = PROBED.computeIfAbsent(this, t -> probe(t.probe));
        if (!problem.isEmpty()) missing(problem);
    }

    /** Whether the tool runs, without skipping or failing (for tests that can use another input instead). */
    public boolean available() {
        return PROBED.computeIfAbsent(this, t -> probe(t.probe)).isEmpty();
    }

    /** Skips the calling test, or fails it in CI, saying what is missing and how to install it. */
    public void missing(String problem) {
        String message = what + " is needed: " + problem + "; install it with: apt-get install -y " + debianPackages;
        if (inCi()) {
            Assertions.fail(message + " (CI=true: a missing tool fails the test instead of skipping it)");
        }
        Assumptions.abort(message + " (skipped; with CI=true this fails)");
    }

    /** The empty string when the probe exits 0 within 60 s, else what went wrong. */
    static String probe(List<String> probe) {
        String cmd = String.join(" ", probe);
        try {
            Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "'" + cmd + "' did not finish in 60 s";
            }
            return p.exitValue() == 0 ? "" : "'" + cmd + "' exited " + p.exitValue();
        } catch (IOException e) {
            return "'" + probe.get(0) + "' cannot be run (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while running '" + cmd + "'";
        }
    }
}
