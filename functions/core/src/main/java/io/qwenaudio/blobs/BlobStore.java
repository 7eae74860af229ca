package io.qwenaudio.blobs;

import io.qwenaudio.events.PayloadException;

/**
 * Claim-check store for tensors too large to travel inside an event: the producer puts the bytes and sends the
 * reference; the consumer gets them back. References are opaque strings of the form {@code <scheme>:<id>};
 * a store rejects references that are not its own or that would resolve outside it.
 */
public interface BlobStore extends AutoCloseable {

    /** Stores bytes; returns the reference to put in the event. */
    String put(byte[] data);

    /** The bytes behind a reference; {@link PayloadException} if it is malformed, foreign or gone. */
    byte[] get(String reference);

    /** Forgets a blob once its consumer is done (missing blobs are ignored). */
    void delete(String reference);

    /** The reference scheme this store answers to, e.g. {@code mem} or {@code file}. */
    String scheme();

    @Override
    default void close() {
    }

    /** Validates a reference's form and returns its id part; ids are UUID-like: [0-9a-f-], 36 chars. */
    static String idOf(String reference, String scheme) {
        if (reference == null) throw new PayloadException("tensor reference is missing");
        String prefix = scheme + ":";
        if (!reference.startsWith(prefix)) {
            throw new PayloadException("tensor reference '" + abbreviate(reference) + "' does not belong to this "
                    + "blob store (expected '" + prefix + "<id>')");
        }
        String id = reference.substring(prefix.length());
        if (!id.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
            throw new PayloadException("tensor reference '" + abbreviate(reference) + "' is malformed: the id must be "
                    + "a lower-case UUID; references outside the store are rejected");
        }
        return id;
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
