package io.qwenaudio.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measuring tools of the benchmarks: child processes (one per measured configuration, so each has its own resident
 * memory figure and no JIT or allocator state from another), their one-line JSON results, process memory from
 * {@code /proc/self/status}, medians and a plain text table.
 */
final class Bench {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Marks the result line of a child process. */
    static final String RESULT = "RESULT ";

    private Bench() {
    }

    /** Prints a child's result: {@code RESULT {json}} on stdout. */
    static void result(Object value) throws IOException {
        System.out.println(RESULT + JSON.writeValueAsString(value));
        System.out.flush();
    }

    /**
     * Runs {@code main} in a child JVM with this JVM's class path, a 1 GiB heap (so heap growth does not pass as model
     * memory) and native access allowed; returns its result line. Fails with the child's output on a non-zero exit.
     */
    static JsonNode java(Path log, Class<?> main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", main.getName()));
        cmd.addAll(List.of(args));
        // the class path goes by environment: with a command line over about 4 KB the child crashed (SIGSEGV) while
        // ONNX Runtime's native library loaded on its main thread
        return process(log, cmd, Map.of("CLASSPATH", System.getProperty("java.class.path")));
    }

    /** Runs a command, output to {@code log}; returns the JSON of its {@link #RESULT} line. */
    static JsonNode process(Path log, List<String> cmd) throws Exception {
        return process(log, cmd, Map.of());
    }

    private static JsonNode process(Path log, List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        int code = pb.start().waitFor();
        String out = Files.readString(log);
        if (code != 0) throw new AssertionError(String.join(" ", cmd) + " exited with " + code + " (log " + log + "):\n" + out);
        String last = null;
        for (String line : out.split("\n")) if (line.startsWith(RESULT)) last = line.substring(RESULT.length());
        if (last == null) {
            // the python peer prints bare JSON as its last line
            String[] lines = out.strip().split("\n");
            last = lines[lines.length - 1];
        }
        return JSON.readTree(last);
    }

    /** A field of /proc/self/status in MiB (VmRSS = resident now, VmHWM = peak resident); -1 where unavailable. */
    static double procStatusMiB(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]) / 1024.0; // kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double median(List<Double> v) {
        return median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    static String fmt(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }

    /** A plain text table: first row is the header; columns are padded to their widest cell. */
    static String table(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int c = 0; c < cols; c++) w[c] = Math.max(w[c], r[c].length());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            String[] r = rows.get(i);
            for (int c = 0; c < cols; c++) {
                String cell = r[c];
                sb.append(c == 0 ? cell + " ".repeat(w[c] - cell.length()) : " ".repeat(w[c] - cell.length()) + cell);
                sb.append(c == cols - 1 ? "\n" : " | ");
            }
            if (i == 0) {
                for (int c = 0; c < cols; c++) sb.append("-".repeat(w[c])).append(c == cols - 1 ? "\n" : "-+-");
            }
        }
        return sb.toString();
    }
}
