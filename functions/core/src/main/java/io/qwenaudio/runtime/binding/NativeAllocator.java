package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.qwenaudio.runtime.binding.OrtCApi.invoke;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A session's allocator for one memory ({@code OrtAllocator} from {@code CreateAllocator}: CPU memory, or CUDA device
 * memory under the CUDA provider), to make tensors ONNX Runtime owns, such as a KV cache allocated once per request
 * at its full length. Thread-safe (ONNX Runtime's allocators are); {@link #close()} releases it after the tensors
 * made with it are closed.
 */
public final class NativeAllocator implements AutoCloseable {

    private final OrtCApi api;
    private final MemorySegment allocator;
    private final String memory;
    private boolean closed;

    private NativeAllocator(OrtCApi api, MemorySegment allocator, String memory) {
        this.api = api;
        this.allocator = allocator;
        this.memory = memory;
        NativeCounts.created(NativeCounts.Kind.ALLOCATOR);
    }

    /** The allocator {@code session} uses for {@code where}'s memory. */
    public static NativeAllocator of(OrtSession session, MemoryInfo where) throws OrtException {
        OrtCApi api = OrtCApi.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createAllocator, SessionHandle.of(session), where.handle(), out),
                    "CreateAllocator(" + where.name() + ")");
            return new NativeAllocator(api, out.get(ADDRESS, 0), where.name());
        }
    }

    /** A new tensor of {@code shape} in this allocator's memory; its contents are undefined until written. */
    public NativeTensor allocate(int elementType, long... shape) throws OrtException {
        if (closed) throw new IllegalStateException("allocator for " + memory + " is closed");
        NativeTensor.elementBytes(elementType); // refuses types the binding does not handle
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, shape);
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createTensorAsOrtValue, allocator, dims, (long) shape.length, elementType, out),
                    "CreateTensorAsOrtValue(" + memory + ")");
            return NativeTensor.adopt(api, out.get(ADDRESS, 0));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        invoke(api.releaseAllocator, allocator);
        NativeCounts.released(NativeCounts.Kind.ALLOCATOR);
    }
}
