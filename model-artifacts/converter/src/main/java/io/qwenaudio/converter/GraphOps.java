package io.qwenaudio.converter;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Which operators the converter writes. {@link #FUSED} (the default) uses ONNX Runtime's contrib ops where ONNX
 * Runtime has kernels on both CPU and CUDA (SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization,
 * GroupQueryAttention with rotary inside, MatMulNBits); {@link #STANDARD} writes standard opset-17 ops only, for
 * runtimes other than ONNX Runtime.
 */
public enum GraphOps {
    STANDARD, FUSED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static String accepted() {
        return Arrays.stream(values()).map(GraphOps::label).collect(Collectors.joining(", "));
    }

    /** Parses {@code standard} / {@code fused}; the error names the accepted values. */
    public static GraphOps parse(String s) {
        for (GraphOps o : values()) if (o.label().equals(s)) return o;
        throw new IllegalArgumentException("--graph-ops '" + s + "' is not accepted; use one of: " + accepted());
    }
}
