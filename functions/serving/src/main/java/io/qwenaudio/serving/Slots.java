package io.qwenaudio.serving;

import io.qwenaudio.runtime.OverloadedException;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Bounds concurrent work: at most {@code running} at once, at most {@code waiting} more queued; beyond that a
 * request is refused with {@link OverloadedException} (HTTP 429 + Retry-After) instead of piling up in memory.
 */
public final class Slots {
    private final String name;
    private final Semaphore running;
    private final int maxWaiting;
    private final AtomicInteger inside = new AtomicInteger();
    private final int maxRunning;

    public Slots(String name, int maxRunning, int maxWaiting) {
        this.name = name;
        this.maxRunning = maxRunning;
        this.maxWaiting = maxWaiting;
        this.running = new Semaphore(maxRunning, true);
    }

    /** Runs {@code work} in a slot, waiting for one if all are taken. */
    public <T> T run(Supplier<T> work) {
        if (inside.incrementAndGet() > maxRunning + maxWaiting) {
            inside.decrementAndGet();
            throw new OverloadedException(name + " is overloaded: " + maxRunning + " running and " + maxWaiting
                    + " waiting; retry shortly", 2);
        }
        try {
            running.acquire();
        } catch (InterruptedException e) {
            inside.decrementAndGet();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a " + name + " slot", e);
        }
        try {
            return work.get();
        } finally {
            running.release();
            inside.decrementAndGet();
        }
    }

    /** Requests running or waiting now. */
    public int inside() {
        return inside.get();
    }
}
