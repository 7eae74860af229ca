package io.qwenaudio.text;

import java.util.List;
import java.util.Set;

/**
 * One message of a conversation: a role ({@code system}, {@code user}, {@code assistant}) and its parts, text and
 * audio clips in order. Audio parts carry no data here; clip k of the conversation (counting from 1 across all
 * messages) gets its audio features from the k-th entry the caller passes with the messages.
 */
public record ChatMessage(String role, List<Part> parts) {

    /** The roles a conversation has. */
    public static final Set<String> ROLES = Set.of("system", "user", "assistant");

    /** A piece of message content. */
    public sealed interface Part permits Text, Audio {
    }

    public record Text(String text) implements Part {
    }

    /** An audio clip's place in the message. */
    public record Audio() implements Part {
    }

    public ChatMessage {
        if (role == null || role.isBlank()) throw new IllegalArgumentException("message role is missing");
        parts = List.copyOf(parts);
    }

    public static ChatMessage system(String text) {
        return new ChatMessage("system", List.of(new Text(text)));
    }

    public static ChatMessage user(Part... parts) {
        return new ChatMessage("user", List.of(parts));
    }

    public static ChatMessage assistant(String text) {
        return new ChatMessage("assistant", List.of(new Text(text)));
    }

    public static Text text(String t) {
        return new Text(t);
    }

    public static Audio audio() {
        return new Audio();
    }
}
