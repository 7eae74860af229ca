package io.qwenaudio.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {

    static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (r.nextGaussian() * 3);
        return f;
    }

    static InMemoryTensorSource sample() {
        return new InMemoryTensorSource()
                .put("a.weight", randomFloats(3 * 5, 1), 3, 5)
                .put("b.bias", randomFloats(7, 2), 7)
                .put("c.big", randomFloats(4 * 33, 3), 4, 33)
                .put("d.scalar", new float[]{0.1f}, 1);
    }

    @Test
    void f32RoundTripIsExact(@TempDir Path dir) throws IOException {
        InMemoryTensorSource src = sample();
        Path f = dir.resolve("x.safetensors");
        SafetensorsWriter.writeFile(f, src, SafetensorsWriter.DType.F32);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertEquals(src.names(), sf.names());
            for (String n : src.names()) {
                assertArrayEquals(src.shape(n), sf.shape(n));
                assertEquals("F32", sf.dtype(n));
                assertArrayEquals(src.floats(n), sf.floats(n));
            }
            assertEquals("pt", sf.metadata().get("format"));
        }
    }

    @Test
    void halfPrecisionRoundTripsWithinRounding(@TempDir Path dir) throws IOException {
        InMemoryTensorSource src = sample();
        for (SafetensorsWriter.DType dt : List.of(SafetensorsWriter.DType.F16, SafetensorsWriter.DType.BF16)) {
            Path f = dir.resolve(dt + ".safetensors");
            SafetensorsWriter.writeFile(f, src, dt);
            double relTol = dt == SafetensorsWriter.DType.F16 ? 1.0 / 2048 : 1.0 / 256;
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                for (String n : src.names()) {
                    assertEquals(dt.name(), sf.dtype(n));
                    float[] want = src.floats(n), got = sf.floats(n);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], Math.abs(want[i]) * relTol + 1e-6, n + "[" + i + "]");
                    }
                    // a second write of the read values is exact: they are representable
                    float[] again = got.clone();
                    assertArrayEquals(got, again);
                }
            }
        }
    }

    @Test
    void tinyMappedRegionsGiveTheSameValues(@TempDir Path dir) throws IOException {
        // Mixed dtypes make tensors start at offsets that are not multiples of 4, and a region size of 12
        // bytes makes every tensor (and single F32 values) straddle region boundaries.
        Path f = dir.resolve("x.safetensors");
        float[] a = randomFloats(3, 4), b = randomFloats(41, 5), c = randomFloats(29, 6);
        try (SafetensorsWriter w = SafetensorsWriter.create(f, List.of(
                new SafetensorsWriter.Spec("a", new long[]{3}, SafetensorsWriter.DType.BF16),
                new SafetensorsWriter.Spec("b", new long[]{41}, SafetensorsWriter.DType.F32),
                new SafetensorsWriter.Spec("c", new long[]{29}, SafetensorsWriter.DType.F16)), Map.of())) {
            w.write("a", a);
            w.write("b", b);
            w.write("c", c);
        }
        try (SafetensorsFile big = SafetensorsFile.open(f); SafetensorsFile small = SafetensorsFile.open(f, 12)) {
            assertEquals(1, big.regionCount());
            assertEquals((6 + 164 + 58 + 11) / 12, small.regionCount());
            for (String n : List.of("a", "b", "c")) assertArrayEquals(big.floats(n), small.floats(n), n);
            assertArrayEquals(b, small.floats("b"));
            // streaming in odd-sized chunks gives the same values
            float[] streamed = new float[41];
            small.streamFloats("b", 5, (v, off, n) -> System.arraycopy(v, 0, streamed, (int) off, n));
            assertArrayEquals(b, streamed);
        }
    }

    @Test
    void writerChecksOrderAndSizes(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.safetensors");
        SafetensorsWriter w = SafetensorsWriter.create(f, List.of(
                new SafetensorsWriter.Spec("a", new long[]{2}, SafetensorsWriter.DType.F32)), Map.of());
        assertThrows(IllegalStateException.class, () -> w.write("b", new float[2]));
        assertThrows(IllegalArgumentException.class, () -> w.write("a", new float[3]));
        var e = assertThrows(IllegalStateException.class, w::close);
        assertTrue(e.getMessage().contains("only 0 of 1"), e.getMessage());
    }

    // ---- corrupt files ----

    static Path raw(Path dir, long declaredLen, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLen).put(h);
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, b.array());
        return f;
    }

    static String openError(Path f) {
        return assertThrows(CheckpointException.class, () -> SafetensorsFile.open(f).close()).getMessage();
    }

    @Test
    void corruptHeadersAreNamed(@TempDir Path dir) throws IOException {
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        String m = openError(raw(dir, 1L << 40, ok, 8));
        assertTrue(m.contains("header length 1099511627776 is impossible"), m);
        m = openError(raw(dir, 0, ok, 8));
        assertTrue(m.contains("header length 0"), m);
        Files.write(dir.resolve("short.safetensors"), new byte[5]);
        m = openError(dir.resolve("short.safetensors"));
        assertTrue(m.contains("fewer than the 8-byte length prefix"), m);
        m = openError(raw(dir, 10, "{\"a\":{\"dty", 0));
        assertTrue(m.contains("header is not valid JSON"), m);
        String out = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        m = openError(raw(dir, out.length(), out, 4));
        assertTrue(m.contains("outside the data area of 4 bytes"), m);
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        m = openError(raw(dir, overlap.length(), overlap, 12));
        assertTrue(m.contains("'a' [0, 8] and 'b' [4, 12] overlap"), m);
        String size = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        m = openError(raw(dir, size.length(), size, 8));
        assertTrue(m.contains("spans 8 bytes but F32[3] needs 12"), m);
        String unknown = "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        m = openError(raw(dir, unknown.length(), unknown, 8));
        assertTrue(m.contains("unknown dtype Q4") && m.contains("[F32, F16, BF16]"), m);
        m = openError(dir.resolve("nope.safetensors"));
        assertTrue(m.contains("not found"), m);
    }

    @Test
    void unsupportedDtypeAndMissingTensorAreNamed(@TempDir Path dir) throws IOException {
        String h = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
        try (SafetensorsFile f = SafetensorsFile.open(raw(dir, h.length(), h, 16))) {
            assertEquals("I64", f.dtype("ids"));
            String m = assertThrows(CheckpointException.class, () -> f.floats("ids")).getMessage();
            assertTrue(m.contains("dtype I64") && m.contains("supported dtypes are [F32, F16, BF16]"), m);
            m = assertThrows(CheckpointException.class, () -> f.floats("other")).getMessage();
            assertTrue(m.contains("missing tensor 'other'"), m);
        }
    }
}
