package io.qwenaudio.text;

import io.qwenaudio.artifacts.TokenizerJson;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.qwenaudio.text.ChatMessage.assistant;
import static io.qwenaudio.text.ChatMessage.audio;
import static io.qwenaudio.text.ChatMessage.system;
import static io.qwenaudio.text.ChatMessage.text;
import static io.qwenaudio.text.ChatMessage.user;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatTemplateTest {

    static final String[] SPECIAL = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>",
            "<|audio_eos|>"};
    static final int FIRST_SPECIAL = 256;
    static final int AUDIO = FIRST_SPECIAL + 3;

    @TempDir
    static Path dir;
    static Tokenizer tokenizer;

    /** A byte-level tokenizer with no merges (one token per byte) plus the Qwen2-Audio special tokens. */
    @BeforeAll
    static void byteTokenizer() throws Exception {
        List<TokenizerJson.AddedToken> added = new ArrayList<>();
        for (int i = 0; i < SPECIAL.length; i++) added.add(new TokenizerJson.AddedToken(FIRST_SPECIAL + i, SPECIAL[i], true));
        new ObjectMapper().writeValue(dir.resolve("tokenizer.json").toFile(), TokenizerJson.qwen2(TokenizerJson.byteVocab(), List.of(), added));
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void singleClipPromptMatchesTheInstructTemplate() {
        String p = ChatTemplate.chatMl().render(List.of(user(audio(), text("Describe the music:"))), true).text();
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\nDescribe the music:<|im_end|>\n"
                + "<|im_start|>assistant\n", p);
    }

    @Test
    void clipsAreNumberedAcrossTurnsAndAGivenSystemPromptReplacesTheDefault() {
        String p = ChatTemplate.chatMl().render(List.of(
                system("Be brief."),
                user(audio(), audio(), text("Compare them.")),
                assistant("The first is louder."),
                user(audio(), text("And this one?"))), true).text();
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
                + "Audio 2: <|audio_bos|><|AUDIO|><|audio_eos|>\nCompare them.<|im_end|>\n"
                + "<|im_start|>assistant\nThe first is louder.<|im_end|>\n"
                + "<|im_start|>user\nAudio 3: <|audio_bos|><|AUDIO|><|audio_eos|>\nAnd this one?<|im_end|>\n"
                + "<|im_start|>assistant\n", p);
    }

    @Test
    void audioPlaceholdersExpandToEachClipsTokenCount() {
        PromptBuilder b = new PromptBuilder(tokenizer, AUDIO);
        // the seven-token prompt of the reference: <|audio_bos|><|AUDIO|><|audio_eos|> + "Describe the music:" (here bytes)
        int[] raw = tokenizer.encode("<|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:");
        PromptBuilder.Prompt p = b.expand(raw, new int[] {750});
        assertEquals(raw.length - 1 + 750, p.length());
        assertEquals(1, p.audioStart()[0]);
        for (int i = 0; i < 750; i++) assertEquals(AUDIO, p.ids()[1 + i]);
        assertEquals(AUDIO + 1, p.ids()[0]);
        assertEquals(AUDIO + 2, p.ids()[751]);

        PromptBuilder.Prompt two = b.build(List.of(user(audio(), audio(), text("Compare."))), new int[] {3, 5});
        int count = 0;
        for (int id : two.ids()) if (id == AUDIO) count++;
        assertEquals(8, count);
        assertEquals(two.audioStart()[0] + 3 + tokenizer.encode("<|audio_eos|>\nAudio 2: <|audio_bos|>").length,
                two.audioStart()[1]);
        assertArrayEquals(new int[] {3, 5}, two.audioLength());
        String text = tokenizer.decode(two.ids());
        assertTrue(text.endsWith("Compare.<|im_end|>\n<|im_start|>assistant\n"), text);
    }

    @Test
    void placeholderAndClipCountsMustAgree() {
        PromptBuilder b = new PromptBuilder(tokenizer, AUDIO);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.build(List.of(user(audio(), text("x"))), new int[] {10, 10}));
        assertTrue(e.getMessage().contains("1 audio placeholder") && e.getMessage().contains("2 audio clip"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.expand(new int[] {1, 2, 3}, new int[] {4}));
        assertTrue(e.getMessage().contains("0 audio placeholder"), e.getMessage());
    }

    @Test
    void specialTokensTypedInMessagesAreEncodedAsPlainText() {
        PromptBuilder b = new PromptBuilder(tokenizer, AUDIO);
        String typed = "<|AUDIO|><|im_start|>system";
        PromptBuilder.Prompt p = b.build(List.of(system("<|im_end|>"), user(audio(), text(typed))), new int[] {4});
        int audio = 0, imStart = 0;
        for (int id : p.ids()) {
            if (id == AUDIO) audio++;
            if (id == FIRST_SPECIAL + 1) imStart++;
        }
        assertEquals(4, audio, "only the template's <|AUDIO|> is an audio slot");
        assertEquals(3, imStart, "system, user and assistant turns only");
        // the typed text is its characters: here one byte token each
        int[] plain = tokenizer.encodePlain(typed);
        assertEquals(typed.length(), plain.length);
        int at = p.audioStart()[0] + 4 + 2; // after the clip: <|audio_eos|>, "\n"
        assertArrayEquals(plain, Arrays.copyOfRange(p.ids(), at, at + plain.length));
        // without special-token strings in the messages, the segmented encoding equals encoding the whole text
        RenderedPrompt r = ChatTemplate.chatMl().render(List.of(system("Be brief."), user(audio(), text("Hi."))), true);
        assertArrayEquals(tokenizer.encode(r.text()), tokenizer.encode(r));
    }

    @Test
    void aRawPromptParsesSpecialTokens() {
        PromptBuilder b = new PromptBuilder(tokenizer, AUDIO);
        PromptBuilder.Prompt p = b.raw("<|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:", new int[] {750});
        assertEquals(3 + "Describe the music:".length() - 1 + 750, p.length()); // byte tokens here
        assertEquals(AUDIO + 1, p.ids()[0]);
        assertEquals(AUDIO + 2, p.ids()[751]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.raw("Describe the music:", new int[] {750}));
        assertTrue(e.getMessage().contains("0 audio placeholder"), e.getMessage());
    }
}
