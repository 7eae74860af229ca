package io.qwenaudio.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.text.Tokenizer;
import io.qwenaudio.artifacts.TokenizerJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streaming text with stop strings on a byte-level tokenizer without merges (one token per UTF-8 byte), so every
 * multi-byte character spans several tokens and a stop string spans several pushes.
 */
class TextAssemblerTest {

    @TempDir
    static Path dir;
    static Tokenizer tokenizer;

    @BeforeAll
    static void byteTokenizer() throws Exception {
        new ObjectMapper().writeValue(dir.resolve("tokenizer.json").toFile(), TokenizerJson.qwen2(TokenizerJson.byteVocab(), List.of(),
                List.of(new TokenizerJson.AddedToken(256, "<|im_end|>", true))));
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    /** Pushes the text's tokens; returns the pieces (the last one from finish()). */
    static List<String> stream(String text, List<String> stops) {
        TextAssembler a = new TextAssembler(tokenizer, stops);
        List<String> pieces = new ArrayList<>();
        for (int id : tokenizer.encode(text)) {
            pieces.add(a.push(id));
            if (a.stopped()) return pieces;
        }
        pieces.add(a.finish());
        return pieces;
    }

    @Test
    void piecesAreWholeCharactersAndConcatenateToTheText() {
        String text = "héllo 🎵 wörld ✓";
        List<String> pieces = stream(text, List.of());
        assertEquals(text, String.join("", pieces));
        for (String p : pieces) assertFalse(p.contains("\uFFFD"), pieces.toString());
        assertTrue(pieces.stream().filter(String::isEmpty).count() >= 3, "multi-byte characters are held: " + pieces);
    }

    @Test
    void stopStringCutsAndItsStartIsNeverShown() {
        String text = "say 🎵 then END and more";
        List<String> pieces = stream(text, List.of("END"));
        assertEquals("say 🎵 then ", String.join("", pieces));
        StringBuilder shown = new StringBuilder();
        for (String p : pieces) {
            shown.append(p);
            assertFalse(shown.toString().contains("E"), "shown before the stop was decided: " + shown);
        }
        assertEquals("a ", String.join("", stream("a 🎵b", List.of("🎵"))));
        assertEquals("", String.join("", stream("ENDx", List.of("END"))));
    }

    @Test
    void aStartThatDoesNotCompleteIsReleased() {
        String text = "EN EN ENx E";
        List<String> pieces = stream(text, List.of("END"));
        assertEquals(text, String.join("", pieces));
        // "EN" is held until the next character shows it is not "END"
        StringBuilder shown = new StringBuilder();
        int heldPushes = 0;
        for (String p : pieces.subList(0, pieces.size() - 1)) {
            if (p.isEmpty()) heldPushes++;
            shown.append(p);
        }
        assertTrue(heldPushes >= 4, pieces.toString());
        assertEquals("EN EN ENx ", shown.toString()); // the final "E" only at finish()
    }

    @Test
    void earliestOfSeveralStopStringsWins() {
        assertEquals("one ", String.join("", stream("one two three", List.of("three", "two"))));
    }
}
