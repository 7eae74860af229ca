package io.qwenaudio.stages;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Makes a stage idempotent under at-least-once delivery: the first delivery of a key computes the reply; a
 * redelivery while it runs waits for the same result (single flight), and a redelivery after it finished gets the
 * stored reply instead of a second computation. Failures are not stored, so a delivery that failed (e.g. on
 * overload) is computed again when it is redelivered.
 *
 * <p>A key may carry a fingerprint of the request (a hash of its payload): the same key with another fingerprint
 * is a different request reusing an id, refused with 409 ({@link StageException}, code {@code id_conflict}) instead
 * of being answered with someone else's reply.
 *
 * <p>Bounded three ways (Caffeine): age ({@code ttl}), bytes ({@code maxBytes}, each reply weighed by
 * {@code weigher}) and entries ({@code maxEntries}). Caffeine bounds by weight or by count, not both, so every entry
 * weighs at least {@code maxBytes / maxEntries}: the cache then holds neither more bytes nor more entries than
 * asked.
 *
 * @param <V> the reply type
 */
public final class ReplyCache<V> {

    /** A reply being computed or computed; {@code weightKiB} is its size once done (1 while pending). */
    private record Entry<V>(String fingerprint, CompletableFuture<V> reply, int weightKiB) {
    }

    private final String idName;
    private final Cache<String, Entry<V>> entries;
    private final ToLongFunction<V> weigher;
    private final int minWeightKiB;
    private final AtomicLong hits = new AtomicLong();

    /** Keys called {@code id}. */
    public ReplyCache(int maxEntries, long maxBytes, Duration ttl, ToLongFunction<V> weigher) {
        this("id", maxEntries, maxBytes, ttl, weigher);
    }

    /**
     * @param idName     what the key is called in the request ({@code request_id}, {@code id}), for the 409 message
     * @param maxEntries most replies kept
     * @param maxBytes   most bytes of replies kept (as {@code weigher} counts them)
     * @param ttl        how long a reply is kept after it was computed
     * @param weigher    approximate bytes a reply holds
     */
    public ReplyCache(String idName, int maxEntries, long maxBytes, Duration ttl, ToLongFunction<V> weigher) {
        this.idName = idName;
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be >= 1, got " + maxEntries);
        if (maxBytes < 1024) throw new IllegalArgumentException("maxBytes must be >= 1024, got " + maxBytes);
        this.weigher = weigher;
        long maxKiB = maxBytes / 1024;
        this.minWeightKiB = (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxKiB / maxEntries));
        this.entries = Caffeine.newBuilder()
                .maximumWeight(maxKiB)
                .<String, Entry<V>>weigher((k, e) -> Math.max(minWeightKiB, e.weightKiB()))
                .expireAfterWrite(ttl)
                .build();
    }

    /** Bounded by entries and age only (replies weighed as 1 KiB each). */
    public ReplyCache(int maxEntries, Duration ttl) {
        this(maxEntries, (long) maxEntries * 1024, ttl, v -> 1024);
    }

    /** The reply for {@code key}: computed once by {@code compute}, or the one already computed/being computed. */
    public V computeOnce(String key, Supplier<V> compute) {
        return computeOnce(key, null, compute);
    }

    /**
     * The reply for {@code key}, computed once.
     *
     * @param fingerprint a hash of the request's payload, or null to not compare payloads
     * @throws StageException 409 {@code id_conflict} when {@code key} is held by a request with another fingerprint
     */
    public V computeOnce(String key, String fingerprint, Supplier<V> compute) {
        if (key == null) return compute.get();
        Entry<V> mine = new Entry<>(fingerprint, new CompletableFuture<>(), 1);
        Entry<V> found = entries.asMap().putIfAbsent(key, mine);
        if (found != null) {
            if (fingerprint != null && found.fingerprint() != null && !fingerprint.equals(found.fingerprint())) {
                throw new StageException(409, "id_conflict", idName + " '" + key + "' was already used by another request "
                        + "with a different payload (audio, prompt or options); send a new " + idName + " for a new request: "
                        + "a repeated " + idName + " is answered with the first request's reply", idName);
            }
            hits.incrementAndGet();
            return join(found.reply());
        }
        try {
            V v = compute.get();
            mine.reply().complete(v);
            long bytes = v == null ? 0 : weigher.applyAsLong(v);
            int kib = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (bytes + 1023) / 1024));
            entries.asMap().replace(key, mine, new Entry<>(fingerprint, mine.reply(), kib)); // re-weighed when done
            return v;
        } catch (RuntimeException | Error ex) {
            entries.asMap().remove(key, mine);
            mine.reply().completeExceptionally(ex);
            throw ex;
        }
    }

    /** Deliveries answered from the cache so far. */
    public long hits() {
        return hits.get();
    }

    /** Replies held now (after pending evictions). */
    public long size() {
        entries.cleanUp();
        return entries.estimatedSize();
    }

    /** Approximate bytes held now, as the weigher counts them (each entry at least {@code maxBytes / maxEntries}). */
    public long weightBytes() {
        entries.cleanUp();
        return entries.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L) * 1024;
    }

    private static <V> V join(CompletableFuture<V> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a duplicate delivery's reply", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error er) throw er;
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public String toString() {
        return "ReplyCache[" + entries.estimatedSize() + " entries, min weight " + minWeightKiB + " KiB" + "]";
    }
}
