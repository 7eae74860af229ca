package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.qwenaudio.runtime.binding.OrtCApi.invoke;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A session's allocator for one kind of memory ({@code CreateAllocator}): tensors it makes live where the
 * execution provider computes ({@code Cuda} device memory under CUDA, ONNX Runtime's CPU arena on the CPU), for
 * buffers that outlive one run, such as a request's pre-allocated KV cache. Thread-safe; closing it releases the
 * allocator, so every tensor made by it must be closed first.
 */
public final class SessionAllocator implements AutoCloseable {

    private final OrtCApi api;
    private final MemorySegment allocator;
    private final String memory;
    private boolean closed;

    public SessionAllocator(OrtSession session, MemoryInfo where) throws OrtException {
        this.api = OrtCApi.get();
        this.memory = where.name();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createAllocator, SessionHandle.of(session), where.handle(), out),
                    "CreateAllocator(" + memory + ")");
            allocator = out.get(ADDRESS, 0);
            NativeCounts.created(NativeCounts.Kind.ALLOCATOR);
        }
    }

    /** A new tensor of {@code shape} in this allocator's memory; its contents are undefined. */
    public synchronized NativeTensor allocate(int elementType, long... shape) throws OrtException {
        if (closed) throw new IllegalStateException("the " + memory + " allocator is closed");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, shape);
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createTensorAsOrtValue, allocator, dims, (long) shape.length, elementType, out),
                    "CreateTensorAsOrtValue");
            return NativeTensor.adopt(api, out.get(ADDRESS, 0));
        }
    }

    /** The memory this allocator hands out ("Cpu", "Cuda"). */
    public String memory() {
        return memory;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        invoke(api.releaseAllocator, allocator);
        NativeCounts.released(NativeCounts.Kind.ALLOCATOR);
    }
}
