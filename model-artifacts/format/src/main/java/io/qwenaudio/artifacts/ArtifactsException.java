package io.qwenaudio.artifacts;

/** An artifacts directory that cannot be used: missing or altered file, bad manifest. The message says what to do. */
public final class ArtifactsException extends RuntimeException {
    public ArtifactsException(String message) {
        super(message);
    }

    public ArtifactsException(String message, Throwable cause) {
        super(message, cause);
    }
}
