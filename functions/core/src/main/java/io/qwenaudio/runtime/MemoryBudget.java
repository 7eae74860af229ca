package io.qwenaudio.runtime;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the bytes that requests hold at once (request bodies, decoded audio, log-mel features, hidden states,
 * projected rows, KV cache): a request reserves its estimate before the work and releases it after; a reservation
 * that does not fit is refused at once with {@link OverloadedException} (HTTP 429 + Retry-After), so memory under
 * overload stays under the bound instead of growing with the offered load. A single request larger than the whole
 * budget is refused the same way when others hold memory, and admitted alone when nothing else runs (so the budget
 * never makes a valid request impossible; the clip and body limits bound it).
 */
public final class MemoryBudget {

    /** No bound (the CLI, tests of one request). */
    public static final MemoryBudget UNBOUNDED = new MemoryBudget(Long.MAX_VALUE, "unbounded");

    private final long maxBytes;
    private final String key;
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    /**
     * @param maxBytes most bytes reserved at once
     * @param key      the configuration key that sets the bound, named in refusals
     */
    public MemoryBudget(long maxBytes, String key) {
        if (maxBytes < 1) throw new IllegalArgumentException(key + " must be >= 1 byte, got " + maxBytes);
        this.maxBytes = maxBytes;
        this.key = key;
    }

    /** A reservation; closing it gives the bytes back (idempotent). */
    public final class Reservation implements AutoCloseable {
        private long bytes;

        private Reservation(long bytes) {
            this.bytes = bytes;
        }

        public long bytes() {
            return bytes;
        }

        @Override
        public synchronized void close() {
            if (bytes > 0) {
                inUse.addAndGet(-bytes);
                bytes = 0;
            }
        }
    }

    /**
     * Reserves {@code bytes} for {@code what}.
     *
     * @throws OverloadedException when they do not fit beside what other requests hold
     */
    public Reservation reserve(long bytes, String what) {
        if (bytes <= 0) return new Reservation(0);
        while (true) {
            long used = inUse.get();
            long next = used + bytes;
            boolean fits = next <= maxBytes || used == 0; // alone, a request is never refused by the budget
            if (!fits || next < 0) {
                refused.incrementAndGet();
                throw new OverloadedException(String.format(Locale.ROOT, "memory for requests in flight is taken: %s "
                        + "needs %.1f MiB and %.1f MiB of %.1f MiB (%s) are held by other requests; retry shortly",
                        what, mib(bytes), mib(used), mib(maxBytes), key), 2);
            }
            if (inUse.compareAndSet(used, next)) {
                peak.accumulateAndGet(next, Math::max);
                return new Reservation(bytes);
            }
        }
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Bytes reserved now. */
    public long inUse() {
        return inUse.get();
    }

    /** Most bytes reserved at once so far. */
    public long peak() {
        return peak.get();
    }

    /** Reservations refused so far. */
    public long refused() {
        return refused.get();
    }

    private static double mib(long b) {
        return b / 1048576.0;
    }

    @Override
    public String toString() {
        return maxBytes == Long.MAX_VALUE ? "MemoryBudget[unbounded]"
                : String.format(Locale.ROOT, "MemoryBudget[%.0f MiB (%s)]", mib(maxBytes), key);
    }
}
