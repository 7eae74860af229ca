package io.qwenaudio.stages;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Makes a stage idempotent by event id under at-least-once delivery: the first delivery of an id computes the
 * reply; a redelivery while it runs waits for the same result, and a redelivery after it finished gets the
 * stored reply instead of a second computation. Failures are not stored, so a delivery that failed (e.g. on
 * overload) is computed again when it is redelivered. Bounded by entry count and age.
 *
 * @param <V> the reply type
 */
public final class ReplyCache<V> {

    private record Entry<V>(CompletableFuture<V> reply, long createdNanos) {
    }

    private final int maxEntries;
    private final long ttlNanos;
    private final Map<String, Entry<V>> entries;

    public ReplyCache(int maxEntries, Duration ttl) {
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be >= 1, got " + maxEntries);
        this.maxEntries = maxEntries;
        this.ttlNanos = ttl.toNanos();
        this.entries = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, ReplyCache.Entry<V>> eldest) {
                return size() > ReplyCache.this.maxEntries;
            }
        };
    }

    /** The reply for {@code id}: computed once by {@code compute}, or the one already computed/being computed. */
    public V computeOnce(String id, Supplier<V> compute) {
        if (id == null) return compute.get();
        CompletableFuture<V> mine = new CompletableFuture<>();
        CompletableFuture<V> existing;
        synchronized (entries) {
            Entry<V> e = entries.get(id);
            if (e != null && System.nanoTime() - e.createdNanos() > ttlNanos) {
                entries.remove(id);
                e = null;
            }
            if (e == null) {
                entries.put(id, new Entry<>(mine, System.nanoTime()));
                existing = null;
            } else {
                existing = e.reply();
            }
        }
        if (existing != null) return join(existing);
        try {
            V v = compute.get();
            mine.complete(v);
            return v;
        } catch (RuntimeException | Error ex) {
            synchronized (entries) {
                entries.remove(id);
            }
            mine.completeExceptionally(ex);
            throw ex;
        }
    }

    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private static <V> V join(CompletableFuture<V> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a duplicate delivery's reply", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }
}
