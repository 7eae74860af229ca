package io.qwenaudio.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Renders a conversation into the model's prompt text. A checkpoint's own {@code chat_template} is rendered by
 * {@link JinjaChatTemplate}; {@link #chatMl()} is the fallback for checkpoints without one: the ChatML prompt of
 * Qwen2-Audio-7B-Instruct, written in Java:
 *
 * <pre>
 * &lt;|im_start|&gt;system\nYou are a helpful assistant.&lt;|im_end|&gt;\n      (added when the first message is not a system message)
 * &lt;|im_start|&gt;user\nAudio 1: &lt;|audio_bos|&gt;&lt;|AUDIO|&gt;&lt;|audio_eos|&gt;\nWhat is said?&lt;|im_end|&gt;\n
 * &lt;|im_start|&gt;assistant\n                                               (the generation prompt)
 * </pre>
 *
 * Audio clips are numbered from 1 across the whole conversation. Each {@code <|AUDIO|>} stands for one clip and
 * is expanded to that clip's audio positions by {@link PromptBuilder}.
 */
public interface ChatTemplate {

    String DEFAULT_SYSTEM = "You are a helpful assistant.";
    String AUDIO_PLACEHOLDER = "<|audio_bos|><|AUDIO|><|audio_eos|>";

    /** Renders the conversation; {@code addGenerationPrompt} appends the assistant turn opener. */
    RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** The Qwen2-Audio-7B-Instruct ChatML, for checkpoints that ship no chat template. */
    static ChatTemplate chatMl() {
        return ChatMl.INSTANCE;
    }

    /** The ChatML fallback. */
    final class ChatMl implements ChatTemplate {
        static final ChatMl INSTANCE = new ChatMl();

        private ChatMl() {
        }

        @Override
        public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            List<RenderedPrompt.Segment> out = new ArrayList<>();
            StringBuilder s = new StringBuilder(); // template text not yet emitted
            int audio = 0;
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                if (i == 0 && !m.role().equals("system")) {
                    s.append("<|im_start|>system\n").append(DEFAULT_SYSTEM).append("<|im_end|>\n");
                }
                s.append("<|im_start|>").append(m.role()).append('\n');
                for (ChatMessage.Part p : m.parts()) {
                    if (p instanceof ChatMessage.Audio) {
                        s.append("Audio ").append(++audio).append(": ").append(AUDIO_PLACEHOLDER).append('\n');
                    } else if (p instanceof ChatMessage.Text t) {
                        flush(s, out);
                        out.add(new RenderedPrompt.Segment(t.text(), false));
                    }
                }
                s.append("<|im_end|>\n");
            }
            if (addGenerationPrompt) s.append("<|im_start|>assistant\n");
            flush(s, out);
            return new RenderedPrompt(out);
        }

        private static void flush(StringBuilder s, List<RenderedPrompt.Segment> out) {
            if (s.length() > 0) out.add(new RenderedPrompt.Segment(s.toString(), true));
            s.setLength(0);
        }
    }
}
