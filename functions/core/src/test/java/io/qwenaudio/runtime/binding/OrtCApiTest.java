package io.qwenaudio.runtime.binding;

import ai.onnxruntime.OrtException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OrtApi slots the binding uses, checked by behaviour on the library the official jar loaded: a wrong slot
 * calls another function and these answers come out wrong (or the process dies, which fails the build too).
 * The IO binding slots and the session handle are checked on a real decoder in {@code IoBindingTest}.
 */
class OrtCApiTest {

    @Test
    void statusSlotsCreateReadAndReleaseAnError() {
        OrtCApi api = OrtCApi.get();
        try (Arena a = Arena.ofConfined()) {
            Object status = OrtCApi.invoke(api.createStatus, 2, a.allocateFrom("probe message")); // ORT_INVALID_ARGUMENT
            OrtException e = assertThrows(OrtException.class, () -> api.check(status, "probe"));
            assertTrue(e.getMessage().contains("probe failed (ONNX Runtime error code 2): probe message"), e.getMessage());
        }
    }

    @Test
    void memoryInfoSlotsNameTheCpu() throws OrtException {
        long before = NativeCounts.live(NativeCounts.Kind.MEMORY_INFO);
        try (MemoryInfo cpu = MemoryInfo.cpu()) {
            assertEquals("Cpu", cpu.name());
            assertEquals(before + 1, NativeCounts.live(NativeCounts.Kind.MEMORY_INFO));
        }
        assertEquals(before, NativeCounts.live(NativeCounts.Kind.MEMORY_INFO));
    }

    @Test
    void tensorSlotsWrapAndReadBackFloatAndHalf() throws OrtException {
        long before = NativeCounts.live();
        try (Arena a = Arena.ofConfined(); MemoryInfo cpu = MemoryInfo.cpu()) {
            MemorySegment f = a.allocateFrom(JAVA_FLOAT, 1f, -2.5f, 3.25f, 7f, 0.125f, -0f);
            try (NativeTensor t = NativeTensor.wrap(cpu, f, NativeTensor.FLOAT, 1, 2, 3)) {  // [1, 2, 3]
                assertEquals(NativeTensor.FLOAT, t.elementType());
                assertArrayEquals(new float[] {7f, 0.125f, -0f}, t.lastFloats(3));
                f.setAtIndex(JAVA_FLOAT, 5, 42f);                 // no copy: the tensor reads the caller's memory
                assertArrayEquals(new float[] {42f}, t.lastFloats(1));
            }
            MemorySegment h = a.allocate(JAVA_SHORT, 4);
            float[] want = {1.5f, -0.0009765625f, 65504f, 0.333251953125f};
            for (int i = 0; i < 4; i++) h.setAtIndex(JAVA_SHORT, i, Float.floatToFloat16(want[i]));
            try (NativeTensor t = NativeTensor.wrap(cpu, h, NativeTensor.FLOAT16, 4)) {
                assertEquals(NativeTensor.FLOAT16, t.elementType());
                assertArrayEquals(want, t.lastFloats(4));
            }
            assertThrows(IllegalArgumentException.class, () -> NativeTensor.wrap(cpu, h, NativeTensor.FLOAT, 4),
                    "4 floats do not fit in 8 bytes");
        }
        assertEquals(before, NativeCounts.live(), NativeCounts.summary());
    }
}
