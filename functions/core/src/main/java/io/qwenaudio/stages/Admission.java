package io.qwenaudio.stages;

import io.qwenaudio.runtime.MemoryBudget;
import io.qwenaudio.runtime.OverloadedException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Admission to the encode stage: at most {@code capacity} requests between arrival and the end of their encoding
 * (the encoder's queue), and their bytes within the process's {@link MemoryBudget}. Past either, a request is turned
 * away at once (429 + Retry-After) instead of holding its samples and features in memory only to be refused later.
 */
public final class Admission {

    private final String stage;
    private final int capacity;
    private final Semaphore slots;
    private final MemoryBudget memory;

    public Admission(String stage, int capacity, MemoryBudget memory) {
        this.stage = stage;
        this.capacity = capacity;
        this.slots = new Semaphore(capacity);
        this.memory = memory;
    }

    /** A request's place: release it (close) when its work is done. */
    public interface Ticket extends AutoCloseable {
        /** Reserves {@code bytes} more of the memory budget for this request. */
        void reserve(long bytes, String what);

        @Override
        void close();
    }

    /**
     * Takes a place.
     *
     * @throws OverloadedException when {@code capacity} requests are already inside
     */
    public Ticket enter() {
        if (!slots.tryAcquire()) {
            throw new OverloadedException(stage + " is overloaded: " + capacity
                    + " requests are already being decoded or encoded; retry shortly", 1);
        }
        return new Ticket() {
            private final List<MemoryBudget.Reservation> held = new ArrayList<>(2);
            private boolean closed;

            @Override
            public void reserve(long bytes, String what) {
                held.add(memory.reserve(bytes, what));
            }

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                held.forEach(MemoryBudget.Reservation::close);
                slots.release();
            }
        };
    }
}
