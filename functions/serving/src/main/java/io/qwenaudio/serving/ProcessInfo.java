package io.qwenaudio.serving;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Start-up time and memory of this process, for the logs. */
public final class ProcessInfo {
    private ProcessInfo() {
    }

    /** Seconds since the JVM started. */
    public static double uptimeSeconds() {
        return ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
    }

    /** Resident set size in MiB (Linux), or -1 where /proc is not there. */
    public static double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    public static String summary() {
        Runtime rt = Runtime.getRuntime();
        return String.format(Locale.ROOT, "%.1f s after JVM start, RSS %.0f MiB, heap used %.0f MiB", uptimeSeconds(), rssMiB(),
                (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
    }
}
