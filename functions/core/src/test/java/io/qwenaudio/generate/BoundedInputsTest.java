package io.qwenaudio.generate;

import io.qwenaudio.text.PromptBuilder;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counts a caller gives are bounded before anything is sized from them: stop strings and stop ids, the expanded
 * prompt (an int sum over many clips must not overflow into a small or negative array size), and the context
 * overflow message stays right for max_new_tokens = Integer.MAX_VALUE.
 */
class BoundedInputsTest {

    static final GenerationOptions BASE = new GenerationOptions(16, false, 1.0, 0, 1.0, 1.0, null, List.of(), List.of());

    @Test
    void tooManyOrTooLongStopStringsAreRejectedNamingTheLimit() {
        List<String> many = Collections.nCopies(GenerationOptions.MAX_STOP_STRINGS + 1, "x");
        InvalidGenerationException e = assertThrows(InvalidGenerationException.class,
                () -> BASE.withStopStrings(many).validate());
        assertEquals("stop accepts at most 16 strings, got 17", e.getMessage());
        assertEquals(BASE.withStopStrings(many.subList(0, 16)), BASE.withStopStrings(many.subList(0, 16)).validate());
        String longOne = "a".repeat(GenerationOptions.MAX_STOP_STRING_CHARS + 1);
        e = assertThrows(InvalidGenerationException.class, () -> BASE.withStopStrings(List.of(longOne)).validate());
        assertEquals("a stop string may have at most 1000 chars, got 1001", e.getMessage());
        List<Integer> ids = Collections.nCopies(GenerationOptions.MAX_STOP_TOKEN_IDS + 1, 7);
        e = assertThrows(InvalidGenerationException.class, () -> BASE.withStopTokenIds(ids).validate());
        assertTrue(e.getMessage().contains("1024") && e.getMessage().contains("1025"), e.getMessage());
    }

    @Test
    void contextOverflowAtIntegerMaxNamesTheFieldAndBothNumbersWithoutOverflow() {
        ContextOverflowException e = new ContextOverflowException(20, Integer.MAX_VALUE, 8192);
        assertEquals(20L + Integer.MAX_VALUE, e.requested());
        assertEquals(8192, e.limit());
        assertEquals("prompt of 20 tokens + max_new_tokens 2147483647 = 2147483667 positions exceeds the model's context "
                + "of 8192 positions (at most 8172 new tokens fit after this prompt); shorten the audio or the prompt, or "
                + "lower max_new_tokens", e.getMessage());
    }

    @Test
    void expandedPromptSizeIsCheckedInLongBeforeAllocating() {
        PromptBuilder b = new PromptBuilder(null, 5);
        int[] ids = {1, 5, 2, 5, 3};
        // 2 x 1.2e9 audio tokens: the int sum would wrap to a negative array size
        int[] huge = {1_200_000_000, 1_200_000_000};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.expand(ids, huge));
        assertTrue(e.getMessage().contains("2400000003 positions"), e.getMessage());
        int[] over = {PromptBuilder.MAX_POSITIONS, 1};
        e = assertThrows(IllegalArgumentException.class, () -> b.expand(ids, over));
        assertTrue(e.getMessage().contains(String.valueOf(PromptBuilder.MAX_POSITIONS)), e.getMessage());
        PromptBuilder.Prompt p = b.expand(ids, new int[] {2, 3});
        assertEquals(3 + 2 + 3, p.length());
    }
}
