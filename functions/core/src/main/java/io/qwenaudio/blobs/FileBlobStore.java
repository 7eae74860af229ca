package io.qwenaudio.blobs;

import io.qwenaudio.events.PayloadException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Claim-check store on a filesystem shared by several stage processes (e.g. a ReadWriteMany volume). Blobs are
 * files {@code <root>/<uuid>.npy}, written to a temporary name then moved so a reader never sees half a file.
 * References are {@code file:<uuid>}: never a path, so a caller cannot point a stage at files outside the store.
 * Blobs older than the time to live are deleted (by whichever process writes next, at most every half TTL), so
 * the shared volume does not fill up; a reader must fetch its blob within the TTL.
 */
public final class FileBlobStore implements BlobStore {

    private final Path root;
    private final Duration ttl;
    private final AtomicLong nextSweepNanos = new AtomicLong(System.nanoTime());

    /** A store without expiry. */
    public FileBlobStore(Path root) {
        this(root, null);
    }

    /** @param ttl how long blobs are kept (null: forever) */
    public FileBlobStore(Path root, Duration ttl) {
        this.ttl = ttl;
        try {
            this.root = Files.createDirectories(root).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create blob store directory " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String scheme() {
        return "file";
    }

    @Override
    public String put(byte[] data) {
        sweepIfDue();
        String id = UUID.randomUUID().toString();
        Path tmp = root.resolve(id + ".tmp");
        try {
            Files.write(tmp, data);
            try {
                Files.move(tmp, file(id), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file(id));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write blob to " + root + ": " + e.getMessage(), e);
        }
        return scheme() + ":" + id;
    }

    @Override
    public byte[] get(String reference) {
        try {
            return Files.readAllBytes(file(BlobStore.idOf(reference, scheme())));
        } catch (NoSuchFileException e) {
            throw new PayloadException("tensor reference '" + reference + "' is unknown or was already deleted");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + reference + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String reference) {
        try {
            Files.deleteIfExists(file(BlobStore.idOf(reference, scheme())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete blob " + reference + ": " + e.getMessage(), e);
        }
    }

    /** Deletes blobs older than the TTL, at most once per half TTL across calls. */
    private void sweepIfDue() {
        if (ttl == null) return;
        long now = System.nanoTime(), due = nextSweepNanos.get();
        if (now - due < 0 || !nextSweepNanos.compareAndSet(due, now + ttl.toNanos() / 2)) return;
        long cutoff = System.currentTimeMillis() - ttl.toMillis();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(root, "*.{npy,tmp}")) {
            for (Path f : files) {
                try {
                    if (Files.getLastModifiedTime(f).toMillis() < cutoff) Files.deleteIfExists(f);
                } catch (IOException e) {
                    // another process deleted it first, or it is unreadable: leave it to the next sweep
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list blob store " + root + ": " + e.getMessage(), e);
        }
    }

    private Path file(String id) {
        Path p = root.resolve(id + ".npy").normalize();
        if (!p.getParent().equals(root)) throw new PayloadException("tensor reference resolves outside the store");
        return p;
    }
}
