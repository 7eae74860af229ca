package io.qwenaudio.stages;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplyCacheTest {

    @Test
    void computesOncePerKeyEvenWhenDeliveriesOverlap() throws Exception {
        ReplyCache<String> c = new ReplyCache<>(100, Duration.ofMinutes(1));
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<String> first = pool.submit(() -> c.computeOnce("k", () -> {
                runs.incrementAndGet();
                inside.countDown();
                await(release);
                return "reply";
            }));
            assertTrue(inside.await(5, TimeUnit.SECONDS));
            List<Future<String>> dups = new ArrayList<>();
            for (int i = 0; i < 3; i++) dups.add(pool.submit(() -> c.computeOnce("k", () -> "other " + runs.incrementAndGet())));
            release.countDown();
            assertEquals("reply", first.get());
            for (Future<String> d : dups) assertEquals("reply", d.get());
            assertEquals(1, runs.get());
            assertEquals(3, c.hits());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailureIsNotRemembered() {
        ReplyCache<String> c = new ReplyCache<>(100, Duration.ofMinutes(1));
        assertThrows(IllegalStateException.class, () -> c.computeOnce("k", () -> {
            throw new IllegalStateException("overloaded");
        }));
        assertEquals("second", c.computeOnce("k", () -> "second"));
    }

    @Test
    void theSameKeyWithAnotherFingerprintIs409NamingTheId() {
        ReplyCache<String> c = new ReplyCache<>("request_id", 100, 1 << 20, Duration.ofMinutes(1), s -> s.length());
        assertEquals("a", c.computeOnce("r1", "fp-a", () -> "a"));
        assertEquals("a", c.computeOnce("r1", "fp-a", () -> "never"));
        StageException e = assertThrows(StageException.class, () -> c.computeOnce("r1", "fp-b", () -> "b"));
        assertEquals(409, e.status());
        assertEquals("request_id", e.field());
        assertTrue(e.getMessage().contains("request_id 'r1'"), e.getMessage());
    }

    @Test
    void boundedByBytesAndByEntries() {
        // 1 MiB for at most 8 entries: each entry weighs at least 128 KiB
        ReplyCache<byte[]> c = new ReplyCache<>("id", 8, 1 << 20, Duration.ofMinutes(1), b -> b.length);
        for (int i = 0; i < 50; i++) c.computeOnce("small-" + i, () -> new byte[10]);
        assertTrue(c.size() <= 8, "entries " + c.size());
        assertTrue(c.weightBytes() <= 1 << 20, "bytes " + c.weightBytes());
        ReplyCache<byte[]> big = new ReplyCache<>("id", 8, 1 << 20, Duration.ofMinutes(1), b -> b.length);
        for (int i = 0; i < 10; i++) assertEquals(400 << 10, big.computeOnce("big-" + i, () -> new byte[400 << 10]).length);
        assertTrue(big.weightBytes() <= 1 << 20, "bytes " + big.weightBytes());
        assertTrue(big.size() <= 2, "400 KiB replies in 1 MiB: " + big.size());
    }

    @Test
    void entriesExpire() throws Exception {
        ReplyCache<String> c = new ReplyCache<>(10, Duration.ofMillis(50));
        c.computeOnce("k", () -> "old");
        Thread.sleep(120);
        assertEquals("new", c.computeOnce("k", () -> "new"));
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
