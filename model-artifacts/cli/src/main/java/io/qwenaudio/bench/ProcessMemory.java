package io.qwenaudio.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** Memory of this process: peak resident set from {@code /proc}, device memory from {@code nvidia-smi}. */
final class ProcessMemory {

    private ProcessMemory() {
    }

    /** Peak resident set size ({@code VmHWM}) in bytes, or -1 where {@code /proc/self/status} does not exist. */
    static long peakRssBytes() {
        long kb = statusKb("VmHWM:");
        return kb < 0 ? -1 : kb * 1024;
    }

    private static long statusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return -1; // not Linux: unknown
        }
        return -1;
    }

    /**
     * Device memory this process holds on the GPU, in bytes, from {@code nvidia-smi --query-compute-apps}; null
     * unless the provider is CUDA and nvidia-smi answers.
     */
    static Long deviceBytes(String provider) {
        if (!provider.toLowerCase(Locale.ROOT).contains("cuda")) return null;
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-compute-apps=pid,used_memory",
                    "--format=csv,noheader,nounits").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            long pid = ProcessHandle.current().pid();
            long mib = 0;
            boolean found = false;
            for (String line : out.split("\n")) {
                String[] f = line.split(",");
                if (f.length == 2 && f[0].trim().equals(Long.toString(pid))) {
                    mib += Long.parseLong(f[1].trim());
                    found = true;
                }
            }
            return found ? mib * 1024 * 1024 : null;
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
