package io.qwenaudio.text;

import java.util.List;

/**
 * The ChatML prompt of Qwen2-Audio-7B-Instruct, as its {@code chat_template} renders it:
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
public final class ChatTemplate {

    public static final String DEFAULT_SYSTEM = "You are a helpful assistant.";
    public static final String AUDIO_PLACEHOLDER = "<|audio_bos|><|AUDIO|><|audio_eos|>";

    private ChatTemplate() {
    }

    /** Renders the conversation; {@code addGenerationPrompt} appends the assistant turn opener. */
    public static String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder s = new StringBuilder();
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
                    s.append(t.text());
                }
            }
            s.append("<|im_end|>\n");
        }
        if (addGenerationPrompt) s.append("<|im_start|>assistant\n");
        return s.toString();
    }
}
