package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtSession;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The one place that reads a private field of the official ONNX Runtime jar: the {@code OrtSession*} behind an
 * {@link OrtSession} ({@code private final long nativeHandle}, as of 1.29). The Java API offers no accessor and no
 * IO binding, and the binding must run on the very session the rest of the code uses (same weights in memory, same
 * execution provider). {@code SessionHandleTest} fails loudly when a new jar renames or retypes the field, and
 * checks that the handle is really the session (the C API's input count equals the Java API's).
 *
 * <p>Works on the class path (the jar is in the unnamed module). A GraalVM native image needs the field registered
 * for reflection (see functions/README.md, "Native images").
 */
final class SessionHandle {

    static final String FIELD = "nativeHandle";
    private static final VarHandle HANDLE;

    static {
        try {
            HANDLE = MethodHandles.privateLookupIn(OrtSession.class, MethodHandles.lookup())
                    .findVarHandle(OrtSession.class, FIELD, long.class);
        } catch (ReflectiveOperationException | SecurityException e) {
            throw new ExceptionInInitializerError(new IllegalStateException("ai.onnxruntime.OrtSession has no "
                    + "'private final long " + FIELD + "' any more (a different onnxruntime jar than 1.29?): the IO "
                    + "binding cannot reach the native session; switch it off with qwen-audio.runtime.io-binding=off",
                    e));
        }
    }

    private SessionHandle() {
    }

    /** The {@code OrtSession*} of an open session. */
    static MemorySegment of(OrtSession session) {
        long h = (long) HANDLE.get(session);
        if (h == 0) throw new IllegalStateException("the ONNX Runtime session is closed");
        return MemorySegment.ofAddress(h);
    }
}
