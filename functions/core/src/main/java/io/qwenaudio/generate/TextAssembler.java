package io.qwenaudio.generate;

import io.qwenaudio.text.StreamingDecoder;
import io.qwenaudio.text.Tokenizer;

import java.util.List;

/**
 * Turns generated ids into the text pieces a client may see: whole UTF-8 characters only
 * ({@link StreamingDecoder}), cut before the first stop string, and never showing text that could still turn out
 * to be the start of a stop string (a suffix that is a prefix of one is held back until the next token decides).
 * One instance per request.
 */
final class TextAssembler {

    private final StreamingDecoder decoder;
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    TextAssembler(Tokenizer tokenizer, List<String> stopStrings) {
        this.decoder = tokenizer.streamingDecoder();
        this.stops = stopStrings;
    }

    /** Adds a token; returns the text that became final (possibly empty). */
    String push(int id) {
        if (stopped) return "";
        pending.append(decoder.push(id));
        return drain(false);
    }

    /** End of generation: returns everything still held back (cut at a stop string). */
    String finish() {
        if (stopped) return "";
        pending.append(decoder.flush());
        return drain(true);
    }

    /** True once a stop string was found; later tokens add no text. */
    boolean stopped() {
        return stopped;
    }

    private String drain(boolean last) {
        int cut = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0) {
            stopped = true;
            String piece = pending.substring(0, cut);
            pending.setLength(0);
            return piece;
        }
        int emit = last ? pending.length() : pending.length() - heldSuffix();
        String piece = pending.substring(0, emit);
        pending.delete(0, emit);
        return piece;
    }

    /** Length of the longest suffix of the pending text that is a proper prefix of a stop string. */
    private int heldSuffix() {
        String text = pending.toString();
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length()); len > best; len--) {
                if (text.regionMatches(text.length() - len, s, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
