package io.qwenaudio.checkpoint;

/** A checkpoint, adapter or LoRA directory that cannot be used; the message says what is wrong and what to do. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
