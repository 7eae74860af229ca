package io.qwenaudio.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import java.security.SecureRandom;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint's own {@code chat_template} (Jinja), rendered with Jinjava the way transformers'
 * {@code apply_chat_template} renders it with jinja2: {@code trim_blocks} and {@code lstrip_blocks} on, a single
 * trailing newline of the template dropped, loop controls ({@code break}/{@code continue}), {@code namespace},
 * the {@code tojson} filter, and the globals {@code raise_exception(msg)} and {@code strftime_now(fmt)}.
 *
 * <p>Messages are passed as transformers passes them: {@code {"role": ..., "content": ...}} where the content is
 * a string for a text-only message and otherwise a list of parts {@code {"type": "text", "text": ...}} and
 * {@code {"type": "audio", "audio_url": ...}}. Message text is wrapped in unguessable markers while rendering so the
 * output can be split into template text and message text ({@link RenderedPrompt}); a template that rewrites
 * message text so the markers no longer pair up is refused with a message saying so. Thread-safe.
 */
public final class JinjaChatTemplate implements ChatTemplate {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String source;
    private final Jinjava jinjava;
    private final Map<String, Object> specialTokens;

    /**
     * @param source        the template text (as in {@code tokenizer_config.json}'s {@code chat_template})
     * @param specialTokens values such as {@code bos_token}, {@code eos_token} that templates may use (may be empty)
     */
    public JinjaChatTemplate(String source, Map<String, String> specialTokens) {
        if (source == null || source.isBlank()) throw new IllegalArgumentException("the chat template is empty");
        // jinja2's default keep_trailing_newline=False drops one trailing newline of the template source
        this.source = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.specialTokens = new HashMap<>(specialTokens);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                JinjaChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                JinjaChatTemplate.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new PythonJsonFilter());
        // fail now, not at the first request, on a template Jinjava cannot parse
        render(List.of(ChatMessage.user(ChatMessage.text("x"))), true);
    }

    public String source() {
        return source;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        String nonce = Long.toString(RANDOM.nextLong() & Long.MAX_VALUE);
        String open = "\uE000" + nonce + "\uE001";
        String close = "\uE002" + nonce + "\uE003";
        List<Object> msgs = new ArrayList<>(messages.size());
        int clip = 0;
        for (ChatMessage m : messages) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", m.role());
            if (m.parts().size() == 1 && m.parts().get(0) instanceof ChatMessage.Text t) {
                msg.put("content", open + t.text() + close);
            } else {
                List<Object> content = new ArrayList<>();
                for (ChatMessage.Part p : m.parts()) {
                    Map<String, Object> part = new LinkedHashMap<>();
                    if (p instanceof ChatMessage.Text t) {
                        part.put("type", "text");
                        part.put("text", open + t.text() + close);
                    } else {
                        part.put("type", "audio");
                        part.put("audio_url", "clip-" + ++clip);
                    }
                    content.add(part);
                }
                msg.put("content", content);
            }
            msgs.add(msg);
        }
        Map<String, Object> context = new HashMap<>(specialTokens);
        context.put("messages", msgs);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r = jinjava.renderForResult(source, context);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new IllegalArgumentException("the chat template failed: " + message(e));
            }
        }
        return split(r.getOutput(), open, close);
    }

    private static String message(TemplateError e) {
        Throwable t = e.getException();
        while (t != null) {
            if (t instanceof TemplateException te) return te.getMessage();
            t = t.getCause();
        }
        return e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "");
    }

    /** Cuts the output at the markers: text between {@code open} and {@code close} is message text. */
    static RenderedPrompt split(String out, String open, String close) {
        List<RenderedPrompt.Segment> segments = new ArrayList<>();
        int at = 0;
        while (true) {
            int o = out.indexOf(open, at);
            int c = out.indexOf(close, at);
            if (o < 0) {
                if (c >= 0) throw rewritten();
                if (at < out.length()) segments.add(templateText(out.substring(at)));
                break;
            }
            if (c < o) throw rewritten();
            int end = out.indexOf(close, o + open.length());
            int nextOpen = out.indexOf(open, o + open.length());
            if (end < 0 || (nextOpen >= 0 && nextOpen < end)) throw rewritten();
            if (o > at) segments.add(templateText(out.substring(at, o)));
            segments.add(new RenderedPrompt.Segment(out.substring(o + open.length(), end), false));
            at = end + close.length();
        }
        return new RenderedPrompt(segments);
    }

    /** Template text; a piece of a marker in it means the template cut message text. */
    private static RenderedPrompt.Segment templateText(String t) {
        for (int i = 0; i < t.length(); i++) {
            char ch = t.charAt(i);
            if (ch >= '\uE000' && ch <= '\uE003') throw rewritten();
        }
        return new RenderedPrompt.Segment(t, true);
    }

    private static IllegalArgumentException rewritten() {
        return new IllegalArgumentException("the chat template rewrites message text (slicing or replacing it), so "
                + "message text cannot be told apart from the template's own special tokens; use a template that "
                + "writes message content as given, or send a raw prompt");
    }

    /** {@code raise_exception(msg)}: the template refuses the conversation. */
    public static String raiseException(String message) {
        throw new TemplateException(message);
    }

    /** {@code strftime_now(fmt)}: the current local time formatted with a Python strftime pattern. */
    public static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format);
    }

    /** Thrown by {@code raise_exception} in a template. */
    static final class TemplateException extends RuntimeException {
        TemplateException(String message) {
            super(message);
        }
    }
}
