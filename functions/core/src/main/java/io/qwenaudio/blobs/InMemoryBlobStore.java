package io.qwenaudio.blobs;

import io.qwenaudio.events.PayloadException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Claim-check store for one process: blobs live in memory until deleted or older than the time-to-live, and the
 * total is bounded so an abandoned request cannot grow memory without limit.
 */
public final class InMemoryBlobStore implements BlobStore {

    private record Blob(byte[] data, long createdNanos) {
    }

    private final Map<String, Blob> blobs = new ConcurrentHashMap<>();
    private final long ttlNanos;
    private final long maxTotalBytes;

    public InMemoryBlobStore(Duration ttl, long maxTotalBytes) {
        this.ttlNanos = ttl.toNanos();
        this.maxTotalBytes = maxTotalBytes;
    }

    @Override
    public String scheme() {
        return "mem";
    }

    @Override
    public String put(byte[] data) {
        evictExpired();
        if (totalBytes() + data.length > maxTotalBytes) {
            throw new PayloadException("in-memory blob store is full (" + maxTotalBytes + " bytes); retry later", true);
        }
        String id = UUID.randomUUID().toString();
        blobs.put(id, new Blob(data, System.nanoTime()));
        return scheme() + ":" + id;
    }

    @Override
    public byte[] get(String reference) {
        Blob b = blobs.get(BlobStore.idOf(reference, scheme()));
        if (b == null) throw new PayloadException("tensor reference '" + reference + "' is unknown or expired");
        return b.data();
    }

    @Override
    public void delete(String reference) {
        blobs.remove(BlobStore.idOf(reference, scheme()));
    }

    public long totalBytes() {
        long n = 0;
        for (Blob b : blobs.values()) n += b.data().length;
        return n;
    }

    private void evictExpired() {
        long now = System.nanoTime();
        for (Iterator<Blob> it = blobs.values().iterator(); it.hasNext(); ) {
            if (now - it.next().createdNanos() > ttlNanos) it.remove();
        }
    }
}
