package io.qwenaudio.runtime.binding;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts of the native objects the IO binding creates and releases, by kind, for the leak tests and for
 * diagnostics. {@link #live()} is the number created and not yet released: after every generation is closed it
 * must be back where it was.
 */
public final class NativeCounts {

    /** Kinds of native object this binding creates. */
    public enum Kind { IO_BINDING, MEMORY_INFO, VALUE, ALLOCATOR }

    private static final AtomicLong[] CREATED = counters(), RELEASED = counters();

    private static AtomicLong[] counters() {
        AtomicLong[] a = new AtomicLong[Kind.values().length];
        for (int i = 0; i < a.length; i++) a[i] = new AtomicLong();
        return a;
    }

    private NativeCounts() {
    }

    static void created(Kind k) {
        CREATED[k.ordinal()].incrementAndGet();
    }

    static void released(Kind k) {
        RELEASED[k.ordinal()].incrementAndGet();
    }

    public static long createdCount(Kind k) {
        return CREATED[k.ordinal()].get();
    }

    public static long releasedCount(Kind k) {
        return RELEASED[k.ordinal()].get();
    }

    /** Created minus released, over all kinds. */
    public static long live() {
        long n = 0;
        for (Kind k : Kind.values()) n += live(k);
        return n;
    }

    public static long live(Kind k) {
        return CREATED[k.ordinal()].get() - RELEASED[k.ordinal()].get();
    }

    public static String summary() {
        StringBuilder b = new StringBuilder();
        for (Kind k : Kind.values()) {
            if (!b.isEmpty()) b.append(", ");
            b.append(k.name().toLowerCase()).append(' ').append(createdCount(k)).append(" created / ")
                    .append(releasedCount(k)).append(" released");
        }
        return b.toString();
    }
}
