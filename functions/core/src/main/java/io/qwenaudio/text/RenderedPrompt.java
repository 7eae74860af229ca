package io.qwenaudio.text;

import java.util.List;

/**
 * A chat template's output, kept in pieces: text the template wrote (role headers, {@code <|im_start|>},
 * {@code <|audio_bos|><|AUDIO|><|audio_eos|>}, ...) and text that came from a message (user, system or assistant
 * content). Only template pieces may turn into special tokens; message text is always encoded as plain text, so a
 * user typing {@code <|AUDIO|>} or {@code <|im_start|>} gets the ids of those characters, not an audio slot or a
 * new turn (see {@link Tokenizer#encode(RenderedPrompt)}).
 */
public record RenderedPrompt(List<Segment> segments) {

    /** One piece of the prompt; {@code fromTemplate} false marks message content. */
    public record Segment(String text, boolean fromTemplate) {
    }

    public RenderedPrompt {
        segments = List.copyOf(segments);
    }

    /** The prompt as one string (what {@code apply_chat_template(..., tokenize=False)} returns). */
    public String text() {
        StringBuilder s = new StringBuilder();
        for (Segment g : segments) s.append(g.text());
        return s.toString();
    }
}
