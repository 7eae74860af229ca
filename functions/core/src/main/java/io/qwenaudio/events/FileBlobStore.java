package io.qwenaudio.events;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Claim-check store on a filesystem shared by several stage processes (e.g. a ReadWriteMany volume). Blobs are
 * files {@code <root>/<uuid>.npy}, written to a temporary name then moved so a reader never sees half a file.
 * References are {@code file:<uuid>}: never a path, so a caller cannot point a stage at files outside the store.
 */
public final class FileBlobStore implements BlobStore {

    private final Path root;

    public FileBlobStore(Path root) {
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

    private Path file(String id) {
        Path p = root.resolve(id + ".npy").normalize();
        if (!p.getParent().equals(root)) throw new PayloadException("tensor reference resolves outside the store");
        return p;
    }
}
