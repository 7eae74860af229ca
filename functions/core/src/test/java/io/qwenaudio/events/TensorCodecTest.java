package io.qwenaudio.events;

import io.qwenaudio.blobs.FileBlobStore;
import io.qwenaudio.blobs.InMemoryBlobStore;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Half;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.SplittableRandom;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorCodecTest {

    static FloatTensor random(int n, int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 3);
        return FloatTensor.of(x, n, d);
    }

    @Test
    void inlineFloat32RoundTripsExactly() {
        TensorCodec c = new TensorCodec(null, 1 << 20, false);
        FloatTensor t = random(10, 16, 1);
        TensorPayload p = c.encode(t);
        assertTrue(p.inline());
        FloatTensor back = c.decode(p, "x", -1, 16);
        assertArrayEquals(t.data(), back.data());
        assertArrayEquals(t.shape(), back.shape());
    }

    @Test
    void float16HalvesTheSizeAndRoundsToHalfPrecision() {
        FloatTensor t = random(750, 64, 2);
        TensorPayload p32 = new TensorCodec(null, 1 << 24, false).encode(t);
        TensorPayload p16 = new TensorCodec(null, 1 << 24, true).encode(t);
        int b32 = Base64.getDecoder().decode(p32.npy()).length;
        int b16 = Base64.getDecoder().decode(p16.npy()).length;
        assertTrue(b16 < 0.51 * b32 + 128, b16 + " vs " + b32);
        FloatTensor back = new TensorCodec(null, 1 << 24, true).decode(p16, "x", 750, 64);
        for (int i = 0; i < t.data().length; i++) {
            assertEquals(Half.toFloat(Half.fromFloat(t.data()[i])), back.data()[i], 0.0f);
            assertEquals(t.data()[i], back.data()[i], Math.abs(t.data()[i]) * 1e-3 + 1e-6);
        }
    }

    @Test
    void largePayloadGoesByReferenceAndComesBack(@TempDir Path dir) {
        try (FileBlobStore store = new FileBlobStore(dir)) {
            TensorCodec c = new TensorCodec(store, 1024, false);
            FloatTensor t = random(100, 32, 3);
            TensorPayload p = c.encode(t);
            assertFalse(p.inline());
            assertTrue(p.ref().startsWith("file:"), p.ref());
            assertArrayEquals(t.data(), c.decode(p, "x", 100, 32).data());
            store.delete(p.ref());
            PayloadException e = assertThrows(PayloadException.class, () -> c.decode(p, "x", 100, 32));
            assertTrue(e.getMessage().contains("unknown"), e.getMessage());
        }
    }

    @Test
    void referencesOutsideTheStoreAreRejected(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret.npy"), "x");
        try (FileBlobStore store = new FileBlobStore(dir.resolve("blobs"))) {
            TensorCodec c = new TensorCodec(store, 0, false);
            for (String ref : new String[] {"file:../secret", "file:/etc/passwd", "mem:" + UUID.randomUUID(),
                    "file:..%2fsecret", "file:" + dir.resolve("secret.npy")}) {
                PayloadException e = assertThrows(PayloadException.class,
                        () -> c.decode(new TensorPayload("float32", new long[] {1, 1}, null, ref), "x", -1, -1));
                assertNotNull(e.getMessage());
            }
        }
    }

    @Test
    void fileStoreDeletesBlobsOlderThanItsTtl(@TempDir Path dir) throws Exception {
        try (FileBlobStore store = new FileBlobStore(dir, Duration.ofMillis(300))) {
            String old = store.put(new byte[] {1, 2, 3});
            Thread.sleep(400);
            String fresh = store.put(new byte[] {4}); // this write sweeps the expired blob
            assertThrows(PayloadException.class, () -> store.get(old));
            assertArrayEquals(new byte[] {4}, store.get(fresh));
        }
    }

    @Test
    void inMemoryStoreIsBounded() {
        InMemoryBlobStore s = new InMemoryBlobStore(Duration.ofMinutes(1), 1000);
        String ref = s.put(new byte[600]);
        PayloadException e = assertThrows(PayloadException.class, () -> s.put(new byte[600]));
        assertTrue(e.tooLarge());
        s.delete(ref);
        s.put(new byte[600]);
    }

    @Test
    void wrongShapeDtypeOrEncodingIsNamed() {
        TensorCodec c = new TensorCodec(null, 1 << 20, false);
        TensorPayload p = c.encode(random(4, 8, 4));
        PayloadException e = assertThrows(PayloadException.class, () -> c.decode(p, "audio_hidden", -1, 1280));
        assertTrue(e.getMessage().contains("audio_hidden") && e.getMessage().contains("[*, 1280]"), e.getMessage());
        e = assertThrows(PayloadException.class,
                () -> c.decode(new TensorPayload("float32", new long[] {4, 8}, "!!notbase64", null), "t", -1, 8));
        assertTrue(e.getMessage().contains("base64"), e.getMessage());
        e = assertThrows(PayloadException.class,
                () -> c.decode(new TensorPayload("int8", new long[] {4, 8}, p.npy(), null), "t", -1, 8));
        assertTrue(e.getMessage().contains("accepted"), e.getMessage());
        e = assertThrows(PayloadException.class,
                () -> c.decode(new TensorPayload("float32", new long[] {8, 4}, p.npy(), null), "t", -1, -1));
        assertTrue(e.getMessage().contains("declared shape"), e.getMessage());
        e = assertThrows(PayloadException.class,
                () -> c.decode(new TensorPayload("float32", new long[] {4, 8},
                        Base64.getEncoder().encodeToString("hello".getBytes()), null), "t", -1, 8));
        assertTrue(e.getMessage().contains(".npy"), e.getMessage());
    }
}
