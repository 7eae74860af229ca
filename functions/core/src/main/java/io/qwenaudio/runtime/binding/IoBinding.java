package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.qwenaudio.runtime.binding.OrtCApi.invoke;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * ONNX Runtime IO binding ({@code OrtIoBinding}) on a session of the official Java API: inputs are bound to
 * {@code OrtValue}s wherever they live, outputs to a device's memory, so a run leaves its outputs where the
 * execution provider computed them (device memory on CUDA) and the next run can take them as inputs without a
 * copy through Java. One binding per request: not thread-safe; the session itself is shared.
 *
 * <p>Owns the binding and the C strings of the names it was given; {@link #close()} releases them. The bound input
 * values stay owned by the caller (ONNX Runtime keeps its own reference while they are bound).
 */
public final class IoBinding implements AutoCloseable {

    private final OrtCApi api;
    private final OrtSession session;
    private final MemorySegment binding;
    private final Arena names = Arena.ofShared();
    private final Map<String, MemorySegment> cNames = new HashMap<>();
    private final MemorySegment allocator;
    private boolean closed;

    public IoBinding(OrtSession session) throws OrtException {
        this.api = OrtCApi.get();
        this.session = session;
        MemorySegment b;
        MemorySegment alloc;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            api.check(invoke(api.createIoBinding, SessionHandle.of(session), out), "CreateIoBinding");
            b = out.get(ADDRESS, 0);
            NativeCounts.created(NativeCounts.Kind.IO_BINDING);
            try {
                api.check(invoke(api.getAllocatorWithDefaultOptions, out), "GetAllocatorWithDefaultOptions");
                alloc = out.get(ADDRESS, 0);   // ONNX Runtime's default CPU allocator: not to be released
            } catch (OrtException | RuntimeException e) {
                invoke(api.releaseIoBinding, b);
                NativeCounts.released(NativeCounts.Kind.IO_BINDING);
                names.close();
                throw e;
            }
        }
        this.binding = b;
        this.allocator = alloc;
    }

    private MemorySegment name(String n) {
        return cNames.computeIfAbsent(n, names::allocateFrom);
    }

    private MemorySegment handle() {
        if (closed) throw new IllegalStateException("IO binding is closed");
        return binding;
    }

    /** Binds input {@code name} to {@code value} (which must stay open while bound). */
    public void bindInput(String name, NativeTensor value) throws OrtException {
        api.check(invoke(api.bindInput, handle(), name(name), value.handle()), "BindInput(" + name + ")");
    }

    /** Binds output {@code name} to a pre-allocated tensor that the run writes into. */
    public void bindOutput(String name, NativeTensor value) throws OrtException {
        api.check(invoke(api.bindOutput, handle(), name(name), value.handle()), "BindOutput(" + name + ")");
    }

    /** Lets the run allocate output {@code name} in {@code where}'s memory (a device's, to keep it there). */
    public void bindOutput(String name, MemoryInfo where) throws OrtException {
        api.check(invoke(api.bindOutputToDevice, handle(), name(name), where.handle()),
                "BindOutputToDevice(" + name + ", " + where.name() + ")");
    }

    /** Runs the session on the bound inputs and outputs. */
    public void run() throws OrtException {
        api.check(invoke(api.runWithBinding, SessionHandle.of(session), MemorySegment.NULL, handle()), "RunWithBinding");
    }

    /**
     * The outputs of the last run, in the order they were bound; the caller owns (closes) them. They stay where
     * they were bound (device memory stays on the device).
     */
    public List<NativeTensor> outputs() throws OrtException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arr = a.allocate(ADDRESS);
            MemorySegment count = a.allocate(JAVA_LONG);
            api.check(invoke(api.getBoundOutputValues, handle(), allocator, arr, count), "GetBoundOutputValues");
            long n = count.get(JAVA_LONG, 0);
            MemorySegment values = arr.get(ADDRESS, 0);
            if (n == 0 || values.equals(MemorySegment.NULL)) return List.of();
            values = values.reinterpret(n * ADDRESS.byteSize());
            List<NativeTensor> out = new ArrayList<>((int) n);
            for (long i = 0; i < n; i++) out.add(NativeTensor.adopt(api, values.getAtIndex(ADDRESS, i)));
            api.check(invoke(api.allocatorFree, allocator, values), "AllocatorFree");
            return out;
        }
    }

    public void clearInputs() {
        invoke(api.clearBoundInputs, handle());
    }

    public void clearOutputs() {
        invoke(api.clearBoundOutputs, handle());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        invoke(api.releaseIoBinding, binding);
        NativeCounts.released(NativeCounts.Kind.IO_BINDING);
        names.close();
    }
}
