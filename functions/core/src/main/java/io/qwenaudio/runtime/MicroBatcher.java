package io.qwenaudio.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Groups concurrent requests into batches: a worker takes the first waiting item, then keeps collecting until it
 * has {@code maxBatch} items or {@code maxWait} has passed since the first one, and runs them as one call. The
 * queue is bounded: past {@code maxQueue} waiting items {@link #submitAll} throws {@link OverloadedException}
 * instead of growing memory; a request's items are admitted all together or not at all.
 *
 * <p>If a batch fails, its items are retried one by one so that one bad item cannot fail its neighbours.
 *
 * @param <I> item type
 * @param <O> result type, one per item, in order
 */
public final class MicroBatcher<I, O> implements AutoCloseable {

    /** Runs one batch; must return exactly one result per item, in order. */
    @FunctionalInterface
    public interface BatchFunction<I, O> {
        List<O> apply(List<I> batch) throws Exception;
    }

    private record Pending<I, O>(I item, CompletableFuture<O> result) {
    }

    private final String name;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final BatchFunction<I, O> fn;
    private final BlockingQueue<Pending<I, O>> queue = new LinkedBlockingQueue<>();
    private final int maxQueue;
    private final Object admission = new Object();
    private final List<Thread> workers = new ArrayList<>();
    private final IntConsumer batchSizeListener;
    private volatile boolean closed;

    /**
     * @param name             used in thread names and errors
     * @param maxBatch         largest batch (1 disables batching)
     * @param maxWait          how long the first item of a batch may wait for company
     * @param maxQueue         items allowed to wait; beyond that, {@link OverloadedException}
     * @param workers          batches run in parallel (e.g. 1 per GPU, a few on CPU)
     * @param fn               the batch computation
     * @param batchSizeListener told the size of every batch run (metrics); may be null
     */
    public MicroBatcher(String name, int maxBatch, Duration maxWait, int maxQueue, int workers,
                        BatchFunction<I, O> fn, IntConsumer batchSizeListener) {
        if (maxBatch < 1) throw new IllegalArgumentException(name + ": max batch must be >= 1, got " + maxBatch);
        if (maxQueue < 1) throw new IllegalArgumentException(name + ": max queue must be >= 1, got " + maxQueue);
        if (workers < 1) throw new IllegalArgumentException(name + ": workers must be >= 1, got " + workers);
        if (maxWait.isNegative()) throw new IllegalArgumentException(name + ": max wait must be >= 0");
        this.name = name;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = maxWait.toNanos();
        this.fn = Objects.requireNonNull(fn);
        this.maxQueue = maxQueue;
        this.batchSizeListener = batchSizeListener == null ? n -> { } : batchSizeListener;
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, name + "-batcher-" + i);
            t.setDaemon(true);
            t.start();
            this.workers.add(t);
        }
    }

    /** Queues one item; the future completes with its result or its failure. */
    public CompletableFuture<O> submit(I item) {
        return submitAll(List.of(item)).get(0);
    }

    /**
     * Queues the items of one request together, or none of them: they are admitted when they fit in the queue
     * bound, or when the queue is empty (so a request larger than the bound is still served, alone).
     *
     * @throws OverloadedException when the items do not fit; nothing was queued
     */
    public List<CompletableFuture<O>> submitAll(List<I> items) {
        if (closed) throw new IllegalStateException(name + " is closed");
        List<CompletableFuture<O>> out = new ArrayList<>(items.size());
        synchronized (admission) {
            int waiting = queue.size();
            if (waiting > 0 && waiting + items.size() > maxQueue) {
                throw new OverloadedException(name + " is overloaded: " + waiting + " items are already waiting (limit "
                        + maxQueue + "); retry shortly", 1);
            }
            for (I item : items) {
                CompletableFuture<O> f = new CompletableFuture<>();
                queue.add(new Pending<>(item, f));
                out.add(f);
            }
        }
        return out;
    }

    /** Items waiting now. */
    public int queued() {
        return queue.size();
    }

    private void work() {
        List<Pending<I, O>> batch = new ArrayList<>(maxBatch);
        while (!closed) {
            try {
                Pending<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                while (batch.size() < maxBatch) {
                    long left = deadline - System.nanoTime();
                    Pending<I, O> next = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) break;
                    batch.add(next);
                }
                run(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
    }

    private void run(List<Pending<I, O>> batch) {
        batchSizeListener.accept(batch.size());
        try {
            List<O> out = fn.apply(batch.stream().map(Pending::item).toList());
            if (out.size() != batch.size()) {
                throw new IllegalStateException(name + ": batch function returned " + out.size() + " results for "
                        + batch.size() + " items");
            }
            for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(out.get(i));
        } catch (Throwable e) {
            if (batch.size() == 1) {
                batch.get(0).result().completeExceptionally(e);
                return;
            }
            for (Pending<I, O> p : batch) run(List.of(p)); // isolate the failing item
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) t.interrupt();
        for (Thread t : workers) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Pending<I, O> p;
        while ((p = queue.poll()) != null) {
            p.result().completeExceptionally(new IllegalStateException(name + " closed before the request ran"));
        }
    }
}
