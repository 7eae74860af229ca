package io.qwenaudio.text;

import java.util.Arrays;

/**
 * Turns a stream of token ids into text pieces. Byte-level BPE tokens can end in the middle of a UTF-8 character
 * (an emoji or a CJK character often spans two or three tokens); such a tail decodes to U+FFFD, so tokens are
 * held back until they decode to whole characters. The concatenation of every {@link #push} and the final
 * {@link #flush} equals {@code tokenizer.decode(allIds)}. One instance per request; not thread-safe.
 */
public final class StreamingDecoder {

    private static final char REPLACEMENT = '\uFFFD';
    /** Give up holding after this many tokens (a real U+FFFD in the text, or invalid bytes). */
    private static final int MAX_HELD = 8;

    private final Tokenizer tokenizer;
    private int[] pending = new int[MAX_HELD];
    private int n;

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one token; returns the text it completes (possibly empty). */
    public String push(int id) {
        if (n == pending.length) pending = Arrays.copyOf(pending, n * 2);
        pending[n++] = id;
        String text = tokenizer.decode(Arrays.copyOf(pending, n));
        if (!text.isEmpty() && text.charAt(text.length() - 1) == REPLACEMENT && n < MAX_HELD) return "";
        n = 0;
        return text;
    }

    /** Text of the tokens still held back (at the end of a stream). */
    public String flush() {
        if (n == 0) return "";
        String text = tokenizer.decode(Arrays.copyOf(pending, n));
        n = 0;
        return text;
    }
}
