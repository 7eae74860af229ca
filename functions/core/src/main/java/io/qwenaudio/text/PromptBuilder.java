package io.qwenaudio.text;

import java.util.Arrays;
import java.util.List;

/**
 * Turns a conversation (or raw prompt ids) into the decoder's input ids: each {@code <|AUDIO|>} placeholder is
 * expanded to its clip's N audio positions, whose embeddings the generator replaces with the projected audio
 * features. For a 30 s clip and the prompt {@code <|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:} the
 * language model sees 6 + 750 positions.
 */
public final class PromptBuilder {

    /**
     * Upper bound on an expanded prompt, far above any Qwen2 context (8192 for Qwen2-Audio), so a prompt array is
     * never sized from an unchecked sum; the generator then checks the model's own context.
     */
    public static final int MAX_POSITIONS = 1 << 20;

    /** Input ids with the audio expanded; clip k occupies {@code ids[audioStart[k] .. audioStart[k] + audioLength[k])}. */
    public record Prompt(int[] ids, int[] audioStart, int[] audioLength) {
        public int length() {
            return ids.length;
        }
    }

    private final Tokenizer tokenizer;
    private final int audioTokenId;
    private final ChatTemplate template;

    /** With the ChatML fallback template. */
    public PromptBuilder(Tokenizer tokenizer, int audioTokenId) {
        this(tokenizer, audioTokenId, ChatTemplate.chatMl());
    }

    public PromptBuilder(Tokenizer tokenizer, int audioTokenId, ChatTemplate template) {
        this.tokenizer = tokenizer;
        this.audioTokenId = audioTokenId;
        this.template = template;
    }

    public ChatTemplate template() {
        return template;
    }

    /**
     * Renders the conversation with the generation prompt, tokenizes it (message text as plain text: only the
     * template inserts special tokens) and expands clip k to {@code audioTokens[k]}.
     */
    public Prompt build(List<ChatMessage> messages, int[] audioTokens) {
        return expand(tokenizer.encode(template.render(messages, true)), audioTokens);
    }

    /**
     * A raw prompt, as base checkpoints are prompted ({@code <|audio_bos|><|AUDIO|><|audio_eos|>Describe the
     * music:}): no template, and special tokens written in the text ARE parsed; each {@code <|AUDIO|>} marks a clip.
     */
    public Prompt raw(String text, int[] audioTokens) {
        return expand(tokenizer.encode(text), audioTokens);
    }

    /**
     * The raw form of a text prompt for a base checkpoint: one {@code <|audio_bos|><|AUDIO|><|audio_eos|>} per clip,
     * then {@code text} as plain text (special-token strings in it are not parsed).
     */
    public Prompt audioThenText(String text, int[] audioTokens) {
        RenderedPrompt r = new RenderedPrompt(List.of(
                new RenderedPrompt.Segment(ChatTemplate.AUDIO_PLACEHOLDER.repeat(audioTokens.length), true),
                new RenderedPrompt.Segment(text, false)));
        return expand(tokenizer.encode(r), audioTokens);
    }

    /**
     * Expands raw prompt ids: every occurrence of the audio token id marks where the next clip goes.
     *
     * @throws IllegalArgumentException when the number of placeholders differs from the number of clips
     */
    public Prompt expand(int[] ids, int[] audioTokens) {
        int placeholders = 0;
        for (int id : ids) if (id == audioTokenId) placeholders++;
        if (placeholders != audioTokens.length) {
            throw new IllegalArgumentException("the prompt has " + placeholders + " audio placeholder(s) (token id "
                    + audioTokenId + ") but " + audioTokens.length + " audio clip(s) were given; each clip needs exactly one");
        }
        long total = ids.length - placeholders;   // long: many clips cannot overflow past the check
        for (int n : audioTokens) {
            if (n < 1) throw new IllegalArgumentException("an audio clip has " + n + " audio tokens; at least 1 is needed");
            total += n;
        }
        if (total > MAX_POSITIONS) {
            throw new IllegalArgumentException("the prompt with its audio expanded takes " + total + " positions, more "
                    + "than any model's context (" + MAX_POSITIONS + "); shorten the audio or the prompt");
        }
        int[] out = new int[(int) total];
        int[] start = new int[audioTokens.length];
        int at = 0;
        int clip = 0;
        for (int id : ids) {
            if (id == audioTokenId) {
                start[clip] = at;
                Arrays.fill(out, at, at + audioTokens[clip], audioTokenId);
                at += audioTokens[clip++];
            } else {
                out[at++] = id;
            }
        }
        return new Prompt(out, start, audioTokens.clone());
    }
}
