package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.qwenaudio.runtime.binding.OrtCApi.invoke;
import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Where a bound tensor lives ({@code OrtMemoryInfo}): CPU memory, or the memory of an execution provider's device
 * ({@code "Cuda"}, device 0...). Immutable once made, so one instance serves every thread; close it once, after
 * the last binding that uses it.
 */
public final class MemoryInfo implements AutoCloseable {

    /** ONNX Runtime's name of CUDA device memory. */
    public static final String CUDA = "Cuda";

    private final OrtCApi api;
    private final MemorySegment handle;
    private final String name;
    private boolean closed;

    private MemoryInfo(OrtCApi api, MemorySegment handle) throws OrtException {
        this.api = api;
        this.handle = handle;
        NativeCounts.created(NativeCounts.Kind.MEMORY_INFO);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.memoryInfoGetName, handle, out), "MemoryInfoGetName");
            this.name = out.get(ADDRESS, 0).reinterpret(256).getString(0);
        }
    }

    /** CPU memory (ONNX Runtime's arena allocator). */
    public static MemoryInfo cpu() throws OrtException {
        OrtCApi api = OrtCApi.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createCpuMemoryInfo, OrtCApi.ORT_ARENA_ALLOCATOR, OrtCApi.ORT_MEM_TYPE_DEFAULT, out),
                    "CreateCpuMemoryInfo");
            return new MemoryInfo(api, out.get(ADDRESS, 0));
        }
    }

    /** The default memory of a device, e.g. {@code device("Cuda", 0)}. */
    public static MemoryInfo device(String name, int deviceId) throws OrtException {
        OrtCApi api = OrtCApi.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createMemoryInfo, a.allocateFrom(name), OrtCApi.ORT_ARENA_ALLOCATOR, deviceId,
                    OrtCApi.ORT_MEM_TYPE_DEFAULT, out), "CreateMemoryInfo(" + name + ", " + deviceId + ")");
            return new MemoryInfo(api, out.get(ADDRESS, 0));
        }
    }

    /** ONNX Runtime's name for this memory: {@code Cpu}, {@code Cuda}, ... */
    public String name() {
        return name;
    }

    MemorySegment handle() {
        if (closed) throw new IllegalStateException("memory info " + name + " is closed");
        return handle;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        invoke(api.releaseMemoryInfo, handle);
        NativeCounts.released(NativeCounts.Kind.MEMORY_INFO);
    }

    @Override
    public String toString() {
        return "MemoryInfo[" + name + "]";
    }
}
