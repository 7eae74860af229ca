package io.qwenaudio.runtime;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The ONNX Runtime execution provider sessions run on ({@code qwen-audio.runtime.execution-provider}). */
public enum ExecutionProvider {
    CPU,
    /** Needs the {@code -Pgpu} build (onnxruntime_gpu, CUDA 12, cuDNN 9). */
    CUDA;

    public static final String KEY = RuntimeOptions.PREFIX + "execution-provider";

    /** The configuration value: {@code cpu}, {@code cuda}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a configuration value (case-insensitive); the message names the key and the accepted values. */
    public static ExecutionProvider parse(String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException(KEY + ": '" + value + "' is not supported; accepted: "
                    + Arrays.stream(values()).map(ExecutionProvider::label).collect(Collectors.joining(", ")));
        }
    }
}
