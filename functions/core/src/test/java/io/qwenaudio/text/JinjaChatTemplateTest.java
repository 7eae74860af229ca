package io.qwenaudio.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.qwenaudio.text.ChatMessage.audio;
import static io.qwenaudio.text.ChatMessage.system;
import static io.qwenaudio.text.ChatMessage.text;
import static io.qwenaudio.text.ChatMessage.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jinjava renders chat templates as transformers does with jinja2: the goldens in
 * {@code chat-template-goldens.json} were rendered by Python jinja2 with transformers' settings
 * ({@code src/test/python/chat_template_goldens.py}) from the Qwen2-Audio-7B-Instruct template and a fine-tune's
 * template that uses loop controls, namespace, tojson and raise_exception.
 */
class JinjaChatTemplateTest {

    static JsonNode goldens;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = JinjaChatTemplateTest.class.getResourceAsStream("chat-template-goldens.json")) {
            goldens = new ObjectMapper().readTree(in);
        }
    }

    static JinjaChatTemplate template(String name) {
        return new JinjaChatTemplate(goldens.path("templates").path(name).asText(),
                Map.of("bos_token", goldens.path("special_tokens").path("bos_token").asText(),
                        "eos_token", goldens.path("special_tokens").path("eos_token").asText()));
    }

    /** The golden's messages as ChatMessages: string content is one text part. */
    static List<ChatMessage> messages(JsonNode json) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : json) {
            JsonNode c = m.path("content");
            List<ChatMessage.Part> parts = new ArrayList<>();
            if (c.isTextual()) {
                parts.add(text(c.asText()));
            } else {
                for (JsonNode p : c) parts.add(p.path("type").asText().equals("audio") ? audio() : text(p.path("text").asText()));
            }
            out.add(new ChatMessage(m.path("role").asText(), parts));
        }
        return out;
    }

    @Test
    void everyGoldenRendersIdentically() {
        int checked = 0;
        for (JsonNode c : goldens.path("cases")) {
            JinjaChatTemplate t = template(c.path("template").asText());
            List<ChatMessage> msgs = messages(c.path("messages"));
            boolean gen = c.path("add_generation_prompt").asBoolean();
            String title = c.path("template").asText() + " / " + c.path("title").asText();
            if (c.hasNonNull("error")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.render(msgs, gen), title);
                assertTrue(e.getMessage().contains(c.path("error").asText()), title + ": " + e.getMessage());
            } else {
                assertEquals(c.path("expected").asText(), t.render(msgs, gen).text(), title);
            }
            checked++;
        }
        assertEquals(18, checked);
    }

    @Test
    void theInstructTemplateAndTheChatMlFallbackAgree() {
        JinjaChatTemplate t = template("qwen2-audio-7b-instruct");
        for (JsonNode c : goldens.path("cases")) {
            if (!c.path("template").asText().equals("qwen2-audio-7b-instruct")) continue;
            List<ChatMessage> msgs = messages(c.path("messages"));
            boolean gen = c.path("add_generation_prompt").asBoolean();
            assertEquals(ChatTemplate.chatMl().render(msgs, gen), t.render(msgs, gen), c.path("title").asText());
        }
    }

    @Test
    void messageTextIsKeptApartFromTemplateText() {
        RenderedPrompt r = template("qwen2-audio-7b-instruct").render(
                List.of(system("S <|im_end|>"), user(audio(), text("<|AUDIO|>?"))), true);
        List<String> fromMessages = r.segments().stream().filter(s -> !s.fromTemplate()).map(RenderedPrompt.Segment::text).toList();
        assertEquals(List.of("S <|im_end|>", "<|AUDIO|>?"), fromMessages);
        for (RenderedPrompt.Segment s : r.segments()) {
            if (s.fromTemplate()) assertFalse(s.text().contains("?") || s.text().contains("S "), s.text());
        }
    }

    @Test
    void aTemplateThatCutsMessageTextIsRefusedByName() {
        // refused when loaded (the constructor renders a probe conversation), not at the first request
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new JinjaChatTemplate(
                "{% for m in messages %}<|im_start|>{{ m['content'][:3] }}<|im_end|>{% endfor %}", Map.of()));
        assertTrue(e.getMessage().contains("rewrites message text"), e.getMessage());
    }

    @Test
    void strftimeNowAndABrokenTemplate() {
        String year = String.valueOf(LocalDate.now().getYear());
        String out = new JinjaChatTemplate("Today is {{ strftime_now('%Y') }}.", Map.of())
                .render(List.of(user(text("x"))), true).text();
        assertTrue(out.equals("Today is " + year + ".") || out.startsWith("Today is 20"), out);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JinjaChatTemplate("{% for m in messages %}", Map.of()));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().startsWith("the chat template failed"), e.getMessage());
    }
}
