package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import io.qwenaudio.tensor.Half;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.qwenaudio.runtime.binding.OrtCApi.invoke;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One {@code OrtValue*} owned by Java: either a tensor over memory the caller owns ({@link #wrap}: ONNX Runtime
 * reads and writes that memory in place, which must outlive this object), or an output ONNX Runtime allocated
 * ({@link #adopt}, e.g. a KV cache tensor in device memory). {@link #close()} releases the value exactly once.
 * Not thread-safe: one generation uses it.
 */
public final class NativeTensor implements AutoCloseable {

    /** ONNXTensorElementDataType values. */
    public static final int FLOAT = 1, INT64 = 7, FLOAT16 = 10, DOUBLE = 11, BFLOAT16 = 16;

    private final OrtCApi api;
    private final MemorySegment value;
    private boolean closed;

    private NativeTensor(OrtCApi api, MemorySegment value) {
        this.api = api;
        this.value = value;
        NativeCounts.created(NativeCounts.Kind.VALUE);
    }

    /**
     * The C API's {@code ONNXTensorElementDataType} of a Java API tensor type (the Java enum numbers its constants
     * differently).
     */
    public static int elementType(TensorInfo.OnnxTensorType t) {
        return switch (t) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> FLOAT;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> FLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> BFLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DOUBLE;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> INT64;
            default -> throw new IllegalArgumentException("tensor type " + t + " is not handled by the IO binding "
                    + "(float, float16, bfloat16, double, int64 are)");
        };
    }

    /** Bytes per element of an ONNX element type this binding handles. */
    public static int elementBytes(int elementType) {
        return switch (elementType) {
            case FLOAT -> 4;
            case INT64, DOUBLE -> 8;
            case FLOAT16, BFLOAT16 -> 2;
            default -> throw new IllegalArgumentException("ONNX element type " + elementType + " is not handled by the "
                    + "IO binding (float, float16, bfloat16, double, int64 are)");
        };
    }

    /**
     * A tensor of {@code shape} over {@code data} (CPU memory described by {@code where}); no copy. {@code data} must
     * hold at least the tensor's bytes and stay alive until this tensor is closed.
     */
    public static NativeTensor wrap(MemoryInfo where, MemorySegment data, int elementType, long... shape)
            throws OrtException {
        OrtCApi api = OrtCApi.get();
        long n = 1;
        for (long d : shape) n *= d;
        long bytes = n * elementBytes(elementType);
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException("tensor of " + n + " elements needs " + bytes + " bytes, the memory has "
                    + data.byteSize());
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, shape);
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createTensorWithDataAsOrtValue, where.handle(), data, bytes, dims, (long) shape.length,
                    elementType, out), "CreateTensorWithDataAsOrtValue");
            return new NativeTensor(api, out.get(ADDRESS, 0));
        }
    }

    /** Takes ownership of an {@code OrtValue*} ONNX Runtime handed out (released by {@link #close()}). */
    static NativeTensor adopt(OrtCApi api, MemorySegment value) {
        return new NativeTensor(api, value);
    }

    MemorySegment handle() {
        if (closed) throw new IllegalStateException("native tensor is closed");
        return value;
    }

    /** The element type (ONNXTensorElementDataType). */
    public int elementType() throws OrtException {
        return (int) typeAndCount()[0];
    }

    private long[] typeAndCount() throws OrtException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(ADDRESS);
            api.check(invoke(api.getTensorTypeAndShape, handle(), info), "GetTensorTypeAndShape");
            MemorySegment i = info.get(ADDRESS, 0);
            try {
                MemorySegment type = a.allocate(JAVA_INT);
                MemorySegment count = a.allocate(JAVA_LONG);
                api.check(invoke(api.getTensorElementType, i, type), "GetTensorElementType");
                api.check(invoke(api.getTensorShapeElementCount, i, count), "GetTensorShapeElementCount");
                return new long[] {type.get(JAVA_INT, 0), count.get(JAVA_LONG, 0)};
            } finally {
                invoke(api.releaseTensorTypeAndShapeInfo, i);
            }
        }
    }

    /**
     * The last {@code n} elements as floats (float, float16 and bfloat16 tensors). The tensor must be in CPU memory
     * (bind such outputs to {@link MemoryInfo#cpu()}).
     */
    public float[] lastFloats(int n) throws OrtException {
        long[] tc = typeAndCount();
        int type = (int) tc[0];
        long count = tc[1];
        if (n > count) throw new IllegalArgumentException("asked for " + n + " elements of a tensor of " + count);
        int eb = elementBytes(type);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            api.check(invoke(api.getTensorMutableData, handle(), p), "GetTensorMutableData");
            MemorySegment data = p.get(ADDRESS, 0).reinterpret(count * eb);
            long from = (count - n) * eb;
            float[] out = new float[n];
            switch (type) {
                case FLOAT -> MemorySegment.copy(data, ValueLayout.JAVA_FLOAT, from, out, 0, n);
                case FLOAT16 -> {
                    for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT, from + 2L * i));
                }
                case BFLOAT16 -> {
                    for (int i = 0; i < n; i++) out[i] = Half.bf16ToFloat(data.get(ValueLayout.JAVA_SHORT, from + 2L * i));
                }
                default -> throw new IllegalArgumentException("tensor of ONNX element type " + type
                        + " cannot be read as floats");
            }
            return out;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        invoke(api.releaseValue, value);
        NativeCounts.released(NativeCounts.Kind.VALUE);
    }
}
