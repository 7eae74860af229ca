package io.qwenaudio.chain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One packaged stage app ({@code quarkus-app/quarkus-run.jar}) running as its own JVM on a fixed local port:
 * started, waited for until {@code /q/health/ready} is UP (the cold start), measured (resident memory from
 * {@code /proc/<pid>/status}), killed and started again on the same port. Its output goes to a log file.
 */
final class StageProcess implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    final String service;
    final int port;
    private final Path jar;
    private final Map<String, String> env;
    private final Map<String, String> properties;
    private final Path logDir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;
    private long coldStartMillis;

    /**
     * @param service    the Knative Service name this process stands for (e.g. {@code encode-function})
     * @param env        environment variables added to this JVM's (the Service container's {@code env})
     * @param properties system properties for the app ({@code -Dkey=value})
     */
    StageProcess(String service, Path jar, Map<String, String> env, Map<String, String> properties, Path logDir) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(service + ": no runnable jar at " + jar + "; package the app first ("
                    + "./mvnw -B package -pl functions/" + service + " -am -DskipTests)");
        }
        this.service = service;
        this.jar = jar;
        this.env = Map.copyOf(env);
        this.properties = Map.copyOf(properties);
        this.logDir = logDir;
        this.port = freePort();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    /** Starts the JVM and blocks until it reports ready; returns the cold start (process start to ready) in ms. */
    synchronized long start() {
        if (process != null && process.isAlive()) throw new IllegalStateException(service + " is already running");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx512m");
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-Dquarkus.http.host=127.0.0.1");
        cmd.add("-Dai.djl.offline=true");
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(jar.toString());
        Path log = logDir.resolve(service + "-" + (++starts) + ".log");
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(logDir);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(env);
            process = pb.start();
            Process started = process;
            Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly)); // no orphan if the test JVM dies
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + service + ": " + cmd, e);
        }
        HttpRequest ready = HttpRequest.newBuilder(uri().resolve("/q/health/ready")).timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = t0 + READY_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(service + " exited with code " + process.exitValue()
                        + " before it was ready; its output:\n" + tail(log));
            }
            try {
                HttpResponse<String> r = http.send(ready, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("\"UP\"")) break;
            } catch (ConnectException e) {
                // not listening yet
            } catch (IOException e) {
                // listening, not answering yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + service, e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(service + " was not ready after " + READY_TIMEOUT.toSeconds()
                        + " s (GET /q/health/ready); its output:\n" + tail(log));
            }
            sleep(25);
        }
        coldStartMillis = (System.nanoTime() - t0) / 1_000_000;
        return coldStartMillis;
    }

    long coldStartMillis() {
        return coldStartMillis;
    }

    long pid() {
        return process.pid();
    }

    /** Resident set size now, in MiB ({@code VmRSS} of {@code /proc/<pid>/status}); -1 where /proc is missing. */
    double rssMiB() {
        return procStatusKb("VmRSS:") / 1024.0;
    }

    /** Peak resident set size so far, in MiB ({@code VmHWM}). */
    double peakRssMiB() {
        return procStatusKb("VmHWM:") / 1024.0;
    }

    private long procStatusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException | NumberFormatException e) {
            return -1024;
        }
        return -1024;
    }

    /** The app's Prometheus text ({@code /q/metrics}). */
    String metrics() throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(uri().resolve("/q/metrics")).timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(r, HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Kills the JVM at once (SIGKILL) and waits until it is gone. */
    synchronized void kill() {
        if (process == null) return;
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Freezes the JVM ({@code SIGSTOP}): it keeps its port and connections but answers nothing until {@link #resume()}. */
    void pause() {
        signal("STOP");
    }

    /** Lets a paused JVM run again ({@code SIGCONT}). */
    void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process p = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed: " + out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() {
        kill();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free local port", e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
