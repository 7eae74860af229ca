package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few ONNX Runtime C API functions the IO binding needs, called through the Foreign Function & Memory API on
 * the {@code libonnxruntime} that the official {@code com.microsoft.onnxruntime} jar has already loaded (no second
 * ONNX Runtime, no JNI code of our own).
 *
 * <p>{@code OrtGetApiBase()->GetApi(ORT_API_VERSION)} returns the {@code OrtApi} struct, a table of function
 * pointers that ONNX Runtime only ever appends to; the slot of each function below is its index in that table
 * (the order of {@code struct OrtApi} in {@code onnxruntime_c_api.h}, mirrored by the C# binding's
 * {@code NativeMethods.OrtApi}). {@code OrtCApiTest} checks them against behaviour (a status made by slot 0 reads
 * back through slots 1 and 2, a CPU memory info names itself "Cpu", a session's input count matches the Java API).
 *
 * <p>Every function returning {@code OrtStatus*} goes through {@link #check}: a non-null status becomes an
 * {@link OrtException} with ONNX Runtime's message, and the status is released.
 */
public final class OrtCApi {

    /** The API version of the pinned ONNX Runtime (1.29); GetApi refuses versions newer than the library's. */
    static final int ORT_API_VERSION = 29;

    // slots in struct OrtApi (0-based)
    static final int CREATE_STATUS = 0, GET_ERROR_CODE = 1, GET_ERROR_MESSAGE = 2;
    static final int SESSION_GET_INPUT_COUNT = 30;
    static final int CREATE_TENSOR_AS_ORT_VALUE = 48, CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49, GET_TENSOR_MUTABLE_DATA = 51;
    static final int GET_TENSOR_ELEMENT_TYPE = 60, GET_TENSOR_SHAPE_ELEMENT_COUNT = 64, GET_TENSOR_TYPE_AND_SHAPE = 65;
    static final int CREATE_MEMORY_INFO = 68, CREATE_CPU_MEMORY_INFO = 69, MEMORY_INFO_GET_NAME = 71;
    static final int ALLOCATOR_FREE = 76, GET_ALLOCATOR_WITH_DEFAULT_OPTIONS = 78;
    static final int RELEASE_STATUS = 93, RELEASE_MEMORY_INFO = 94, RELEASE_VALUE = 96;
    static final int RELEASE_TENSOR_TYPE_AND_SHAPE_INFO = 99;
    static final int CREATE_ALLOCATOR = 131, RELEASE_ALLOCATOR = 132;
    static final int RUN_WITH_BINDING = 133, CREATE_IO_BINDING = 134, RELEASE_IO_BINDING = 135, BIND_INPUT = 136,
            BIND_OUTPUT = 137, BIND_OUTPUT_TO_DEVICE = 138, GET_BOUND_OUTPUT_VALUES = 140, CLEAR_BOUND_INPUTS = 141,
            CLEAR_BOUND_OUTPUTS = 142;

    // OrtAllocatorType / OrtMemType
    static final int ORT_ARENA_ALLOCATOR = 1, ORT_MEM_TYPE_DEFAULT = 0;

    private static volatile OrtCApi instance;

    final MethodHandle createStatus, getErrorCode, getErrorMessage, releaseStatus;
    final MethodHandle sessionGetInputCount;
    final MethodHandle createTensorAsOrtValue, createTensorWithDataAsOrtValue, getTensorMutableData, releaseValue;
    final MethodHandle createAllocator, releaseAllocator;
    final MethodHandle getTensorTypeAndShape, getTensorElementType, getTensorShapeElementCount, releaseTensorTypeAndShapeInfo;
    final MethodHandle createMemoryInfo, createCpuMemoryInfo, memoryInfoGetName, releaseMemoryInfo;
    final MethodHandle getAllocatorWithDefaultOptions, allocatorFree;
    final MethodHandle createIoBinding, releaseIoBinding, bindInput, bindOutput, bindOutputToDevice, runWithBinding,
            getBoundOutputValues, clearBoundInputs, clearBoundOutputs;

    private OrtCApi(MemorySegment api) {
        Linker l = Linker.nativeLinker();
        // OrtStatus* CreateStatus(OrtErrorCode code, const char* msg)
        createStatus = fn(l, api, CREATE_STATUS, FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
        // OrtErrorCode GetErrorCode(const OrtStatus*)
        getErrorCode = fn(l, api, GET_ERROR_CODE, FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // const char* GetErrorMessage(const OrtStatus*)
        getErrorMessage = fn(l, api, GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS));
        // void ReleaseStatus(OrtStatus*)
        releaseStatus = fn(l, api, RELEASE_STATUS, FunctionDescriptor.ofVoid(ADDRESS));
        // OrtStatus* SessionGetInputCount(const OrtSession*, size_t* out)
        sessionGetInputCount = fn(l, api, SESSION_GET_INPUT_COUNT, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* CreateTensorAsOrtValue(OrtAllocator*, const int64_t* shape, size_t shape_len,
        //     ONNXTensorElementDataType type, OrtValue** out)
        createTensorAsOrtValue = fn(l, api, CREATE_TENSOR_AS_ORT_VALUE,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        // OrtStatus* CreateAllocator(const OrtSession*, const OrtMemoryInfo*, OrtAllocator** out)
        createAllocator = fn(l, api, CREATE_ALLOCATOR, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // void ReleaseAllocator(OrtAllocator*)
        releaseAllocator = fn(l, api, RELEASE_ALLOCATOR, FunctionDescriptor.ofVoid(ADDRESS));
        // OrtStatus* CreateTensorWithDataAsOrtValue(const OrtMemoryInfo*, void* p_data, size_t p_data_len,
        //     const int64_t* shape, size_t shape_len, ONNXTensorElementDataType type, OrtValue** out)
        createTensorWithDataAsOrtValue = fn(l, api, CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        // OrtStatus* GetTensorMutableData(OrtValue*, void** out)
        getTensorMutableData = fn(l, api, GET_TENSOR_MUTABLE_DATA, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // void ReleaseValue(OrtValue*)
        releaseValue = fn(l, api, RELEASE_VALUE, FunctionDescriptor.ofVoid(ADDRESS));
        // OrtStatus* GetTensorTypeAndShape(const OrtValue*, OrtTensorTypeAndShapeInfo** out)
        getTensorTypeAndShape = fn(l, api, GET_TENSOR_TYPE_AND_SHAPE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* GetTensorElementType(const OrtTensorTypeAndShapeInfo*, ONNXTensorElementDataType* out)
        getTensorElementType = fn(l, api, GET_TENSOR_ELEMENT_TYPE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* GetTensorShapeElementCount(const OrtTensorTypeAndShapeInfo*, size_t* out)
        getTensorShapeElementCount = fn(l, api, GET_TENSOR_SHAPE_ELEMENT_COUNT,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // void ReleaseTensorTypeAndShapeInfo(OrtTensorTypeAndShapeInfo*)
        releaseTensorTypeAndShapeInfo = fn(l, api, RELEASE_TENSOR_TYPE_AND_SHAPE_INFO, FunctionDescriptor.ofVoid(ADDRESS));
        // OrtStatus* CreateMemoryInfo(const char* name, OrtAllocatorType, int id, OrtMemType, OrtMemoryInfo** out)
        createMemoryInfo = fn(l, api, CREATE_MEMORY_INFO,
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        // OrtStatus* CreateCpuMemoryInfo(OrtAllocatorType, OrtMemType, OrtMemoryInfo** out)
        createCpuMemoryInfo = fn(l, api, CREATE_CPU_MEMORY_INFO, FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        // OrtStatus* MemoryInfoGetName(const OrtMemoryInfo*, const char** out)
        memoryInfoGetName = fn(l, api, MEMORY_INFO_GET_NAME, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // void ReleaseMemoryInfo(OrtMemoryInfo*)
        releaseMemoryInfo = fn(l, api, RELEASE_MEMORY_INFO, FunctionDescriptor.ofVoid(ADDRESS));
        // OrtStatus* GetAllocatorWithDefaultOptions(OrtAllocator** out)  (not to be released)
        getAllocatorWithDefaultOptions = fn(l, api, GET_ALLOCATOR_WITH_DEFAULT_OPTIONS,
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        // OrtStatus* AllocatorFree(OrtAllocator*, void* p)
        allocatorFree = fn(l, api, ALLOCATOR_FREE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* CreateIoBinding(OrtSession*, OrtIoBinding** out)
        createIoBinding = fn(l, api, CREATE_IO_BINDING, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        // void ReleaseIoBinding(OrtIoBinding*)
        releaseIoBinding = fn(l, api, RELEASE_IO_BINDING, FunctionDescriptor.ofVoid(ADDRESS));
        // OrtStatus* BindInput(OrtIoBinding*, const char* name, const OrtValue*)
        bindInput = fn(l, api, BIND_INPUT, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* BindOutput(OrtIoBinding*, const char* name, const OrtValue*)
        bindOutput = fn(l, api, BIND_OUTPUT, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* BindOutputToDevice(OrtIoBinding*, const char* name, const OrtMemoryInfo*)
        bindOutputToDevice = fn(l, api, BIND_OUTPUT_TO_DEVICE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* RunWithBinding(OrtSession*, const OrtRunOptions*, const OrtIoBinding*)
        runWithBinding = fn(l, api, RUN_WITH_BINDING, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // OrtStatus* GetBoundOutputValues(const OrtIoBinding*, OrtAllocator*, OrtValue*** output, size_t* count)
        getBoundOutputValues = fn(l, api, GET_BOUND_OUTPUT_VALUES,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // void ClearBoundInputs(OrtIoBinding*), void ClearBoundOutputs(OrtIoBinding*)
        clearBoundInputs = fn(l, api, CLEAR_BOUND_INPUTS, FunctionDescriptor.ofVoid(ADDRESS));
        clearBoundOutputs = fn(l, api, CLEAR_BOUND_OUTPUTS, FunctionDescriptor.ofVoid(ADDRESS));
    }

    /**
     * The API table of the ONNX Runtime library the official jar loaded (loading it first if needed).
     *
     * @throws IllegalStateException when the library or {@code OrtGetApiBase} cannot be found, or the library is
     *                               older than the API version this binding was written for
     */
    public static OrtCApi get() {
        OrtCApi a = instance;
        if (a != null) return a;
        synchronized (OrtCApi.class) {
            if (instance == null) instance = load();
            return instance;
        }
    }

    private static OrtCApi load() {
        OrtEnvironment.getEnvironment(); // makes the official jar load libonnxruntime into this process
        MemorySegment base = findApiBase();
        Linker l = Linker.nativeLinker();
        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
        MemorySegment apiBase = ((MemorySegment) invoke(l.downcallHandle(base, FunctionDescriptor.of(ADDRESS))))
                .reinterpret(2 * ADDRESS.byteSize());
        MethodHandle getApi = l.downcallHandle(apiBase.get(ADDRESS, 0), FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle version = l.downcallHandle(apiBase.get(ADDRESS, ADDRESS.byteSize()), FunctionDescriptor.of(ADDRESS));
        String v = ((MemorySegment) invoke(version)).reinterpret(64).getString(0);
        MemorySegment api = (MemorySegment) invoke(getApi, ORT_API_VERSION);
        if (api.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("the loaded ONNX Runtime " + v + " does not offer C API version "
                    + ORT_API_VERSION + "; the IO binding needs ONNX Runtime 1." + ORT_API_VERSION + " or newer "
                    + "(switch it off with " + "qwen-audio.runtime.io-binding=off)");
        }
        return new OrtCApi(api.reinterpret((CLEAR_BOUND_OUTPUTS + 1) * ADDRESS.byteSize()));
    }

    /**
     * {@code OrtGetApiBase} in the library the official jar loaded: first through this class loader's libraries
     * (the jar's {@code System.load}), else by asking the dynamic linker for the already loaded library by name.
     */
    private static MemorySegment findApiBase() {
        Optional<MemorySegment> s = SymbolLookup.loaderLookup().find("OrtGetApiBase");
        if (s.isPresent()) return s.get();
        for (String lib : List.of("libonnxruntime.so.1", "libonnxruntime.so", "libonnxruntime.dylib", "onnxruntime.dll")) {
            try {
                s = SymbolLookup.libraryLookup(lib, Arena.global()).find("OrtGetApiBase");
                if (s.isPresent()) return s.get();
            } catch (IllegalArgumentException notLoadable) {
                // try the next name
            }
        }
        throw new IllegalStateException("OrtGetApiBase not found: the ONNX Runtime library of the "
                + "com.microsoft.onnxruntime jar is not visible to the IO binding; switch it off with "
                + "qwen-audio.runtime.io-binding=off");
    }

    /**
     * The number of inputs of {@code session} as the C API sees it through the session's native handle; equal to
     * {@link OrtSession#getNumInputs()} when the handle is right (a check made once per generator).
     */
    public long inputCount(OrtSession session) throws OrtException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check(invoke(sessionGetInputCount, SessionHandle.of(session), out), "SessionGetInputCount");
            return out.get(JAVA_LONG, 0);
        }
    }

    private static MethodHandle fn(Linker l, MemorySegment api, int slot, FunctionDescriptor d) {
        MemorySegment p = api.getAtIndex(ADDRESS, slot);
        if (p.equals(MemorySegment.NULL)) throw new IllegalStateException("OrtApi slot " + slot + " is empty");
        return l.downcallHandle(p, d);
    }

    /** Throws {@link OrtException} with ONNX Runtime's message when {@code status} is not null; releases it. */
    void check(Object status, String what) throws OrtException {
        MemorySegment st = (MemorySegment) status;
        if (st.equals(MemorySegment.NULL)) return;
        try {
            int code = (int) invoke(getErrorCode, st);
            String msg = ((MemorySegment) invoke(getErrorMessage, st)).reinterpret(Integer.MAX_VALUE).getString(0);
            throw new OrtException(what + " failed (ONNX Runtime error code " + code + "): " + msg);
        } finally {
            invoke(releaseStatus, st);
        }
    }

    /** Calls a downcall handle; a {@link Throwable} from it (none is expected from C) becomes unchecked. */
    static Object invoke(MethodHandle h, Object... args) {
        try {
            return h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
