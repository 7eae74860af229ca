package io.qwenaudio.audio;

/**
 * Bad audio input: unreadable, unsupported or outside the configured {@link AudioLimits}. The message is one line
 * that names the problem and what is accepted, so it can be shown to a user as it is.
 */
public class InvalidAudioException extends RuntimeException {

    /** Accepted input formats, for messages. */
    public static final String ACCEPTED_FORMATS =
            "accepted: WAV (8-bit unsigned, 16/24/32-bit PCM, 32/64-bit float), FLAC, MP3";

    public InvalidAudioException(String message) {
        super(message);
    }

    public InvalidAudioException(String message, Throwable cause) {
        super(message, cause);
    }
}
