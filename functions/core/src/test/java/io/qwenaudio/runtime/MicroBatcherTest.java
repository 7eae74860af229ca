package io.qwenaudio.runtime;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MicroBatcherTest {

    @Test
    void concurrentItemsAreBatchedAndAnsweredInOrder() throws Exception {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("square", 8, Duration.ofMillis(200), 64, 1,
                xs -> xs.stream().map(x -> x * x).toList(), sizes::add)) {
            List<CompletableFuture<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < 16; i++) fs.add(b.submit(i));
            for (int i = 0; i < 16; i++) assertEquals(i * i, fs.get(i).get(5, TimeUnit.SECONDS));
        }
        assertEquals(16, sizes.stream().mapToInt(Integer::intValue).sum());
        assertTrue(sizes.stream().anyMatch(s -> s > 1), "expected at least one real batch, got sizes " + sizes);
        assertTrue(sizes.stream().allMatch(s -> s <= 8), "batch above max size: " + sizes);
    }

    @Test
    void batchOfOneWhenAlone() throws Exception {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        try (MicroBatcher<String, String> b = new MicroBatcher<>("echo", 4, Duration.ofMillis(1), 4, 1,
                xs -> xs, sizes::add)) {
            assertEquals("a", b.submit("a").get(5, TimeUnit.SECONDS));
        }
        assertEquals(List.of(1), sizes);
    }

    @Test
    void failingItemDoesNotFailItsNeighbours() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("div", 8, Duration.ofMillis(300), 64, 1, xs -> {
            gate.await();
            return xs.stream().map(x -> 100 / x).toList();
        }, null)) {
            CompletableFuture<Integer> ok1 = b.submit(5);
            CompletableFuture<Integer> bad = b.submit(0);
            CompletableFuture<Integer> ok2 = b.submit(10);
            gate.countDown();
            assertEquals(20, ok1.get(5, TimeUnit.SECONDS));
            assertEquals(10, ok2.get(5, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof ArithmeticException);
        }
    }

    @Test
    void fullQueueIsRejectedNotBuffered() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("slow", 1, Duration.ZERO, 2, 1, xs -> {
            gate.await();
            return xs;
        }, null)) {
            List<CompletableFuture<Integer>> accepted = new ArrayList<>();
            accepted.add(b.submit(1)); // taken by the worker (blocked on the gate)
            Thread.sleep(100);
            accepted.add(b.submit(2));
            accepted.add(b.submit(3)); // queue (2) now full
            OverloadedException e = assertThrows(OverloadedException.class, () -> b.submit(4));
            assertTrue(e.getMessage().contains("overloaded"), e.getMessage());
            assertTrue(e.retryAfterSeconds() >= 1);
            gate.countDown();
            for (int i = 0; i < accepted.size(); i++) assertEquals(i + 1, accepted.get(i).get(5, TimeUnit.SECONDS));
            assertEquals(5, b.submit(5).get(5, TimeUnit.SECONDS)); // recovers once drained
        }
    }

    @Test
    void aRequestsItemsAreAdmittedTogetherOrNotAtAll() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (MicroBatcher<Integer, Integer> b = new MicroBatcher<>("windows", 1, Duration.ZERO, 3, 1, xs -> {
            gate.await();
            return xs;
        }, null)) {
            CompletableFuture<Integer> running = b.submit(0); // taken by the worker (blocked on the gate)
            Thread.sleep(100);
            // the queue is empty: a request larger than the bound is still admitted, whole
            List<CompletableFuture<Integer>> big = b.submitAll(List.of(1, 2, 3, 4, 5));
            assertEquals(5, b.queued());
            // now it is not empty: one more item does not fit and nothing of it is queued
            assertThrows(OverloadedException.class, () -> b.submitAll(List.of(6, 7)));
            assertEquals(5, b.queued());
            gate.countDown();
            assertEquals(0, running.get(5, TimeUnit.SECONDS));
            for (int i = 0; i < big.size(); i++) assertEquals(i + 1, big.get(i).get(5, TimeUnit.SECONDS));
        }
    }
}
