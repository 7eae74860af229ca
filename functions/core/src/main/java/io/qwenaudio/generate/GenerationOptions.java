package io.qwenaudio.generate;

import com.fasterxml.jackson.databind.JsonNode;
import io.qwenaudio.artifacts.Manifest;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How to generate, with transformers' meaning of each field. Immutable; {@link #defaults(Manifest)} takes the
 * checkpoint's {@code generation_config.json} values, the {@code with...} methods return changed copies and
 * {@link #validate()} checks every range.
 *
 * @param maxNewTokens      at most this many generated tokens (>= 1)
 * @param doSample          sample from the filtered distribution; {@code false} is greedy (argmax)
 * @param temperature       logits divided by it before sampling (>= 0; 0 means greedy)
 * @param topK              keep the k most likely ids when sampling (0 = no limit)
 * @param topP              keep the smallest set of most likely ids whose probability reaches top_p, in (0, 1]
 * @param repetitionPenalty > 0; 1 is none. Ids already in the prompt or the output get positive logits divided and
 *                          negative logits multiplied by it (also when greedy, as in transformers)
 * @param seed              seed of the sampler's random numbers; null for a fresh random seed per request
 * @param stopTokenIds      generation stops after any of these ids (included in the ids, not in the text)
 * @param stopStrings       generation stops when the text contains one of these; the text is cut before it
 */
public record GenerationOptions(int maxNewTokens, boolean doSample, double temperature, int topK, double topP,
                                double repetitionPenalty, Long seed, List<Integer> stopTokenIds, List<String> stopStrings) {

    /** Used when the generation config has no {@code max_new_tokens}. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 256;

    /** Most stop strings a request may give (each is matched after every token). */
    public static final int MAX_STOP_STRINGS = 16;

    /** Longest stop string, in chars. */
    public static final int MAX_STOP_STRING_CHARS = 1000;

    /** Most stop token ids. */
    public static final int MAX_STOP_TOKEN_IDS = 1024;

    public GenerationOptions {
        stopTokenIds = List.copyOf(stopTokenIds == null ? List.of() : stopTokenIds);
        stopStrings = List.copyOf(stopStrings == null ? List.of() : stopStrings);
    }

    /**
     * The checkpoint's generation defaults: {@code max_new_tokens}, {@code do_sample}, {@code temperature},
     * {@code top_k}, {@code top_p}, {@code repetition_penalty} from generation_config.json where present,
     * transformers' defaults otherwise (greedy, 1.0, 50, 1.0, 1.0); stop ids = the eos ids + {@code <|im_end|>} +
     * {@code <|endoftext|>}.
     */
    public static GenerationOptions defaults(Manifest m) {
        JsonNode g = m.generation();
        Set<Integer> stop = new LinkedHashSet<>();
        Manifest.SpecialTokens st = m.specialTokens();
        if (st != null) {
            if (st.eosTokenIds() != null) stop.addAll(st.eosTokenIds());
            stop.add(st.imEndId());
            stop.add(st.endOfTextId());
        }
        return new GenerationOptions(
                intOr(g, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS),
                g != null && g.path("do_sample").asBoolean(false),
                doubleOr(g, "temperature", 1.0),
                intOr(g, "top_k", 50),
                doubleOr(g, "top_p", 1.0),
                doubleOr(g, "repetition_penalty", 1.0),
                null, new ArrayList<>(stop), List.of());
    }

    private static int intOr(JsonNode g, String key, int fallback) {
        return g != null && g.hasNonNull(key) ? g.get(key).asInt() : fallback;
    }

    private static double doubleOr(JsonNode g, String key, double fallback) {
        return g != null && g.hasNonNull(key) ? g.get(key).asDouble() : fallback;
    }

    /** Checks every field; throws {@link InvalidGenerationException} naming the first bad one. Returns this. */
    public GenerationOptions validate() {
        if (maxNewTokens < 1) fail("max_new_tokens", "max_new_tokens must be >= 1, got " + maxNewTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) fail("temperature", "temperature must be >= 0 and finite, got " + temperature);
        if (topK < 0) fail("top_k", "top_k must be >= 0 (0 = no limit), got " + topK);
        if (!(topP > 0 && topP <= 1)) fail("top_p", "top_p must be in (0, 1], got " + topP);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            fail("repetition_penalty", "repetition_penalty must be > 0 and finite (1 = none), got " + repetitionPenalty);
        }
        if (stopTokenIds.size() > MAX_STOP_TOKEN_IDS) {
            fail("stop_token_ids", "at most " + MAX_STOP_TOKEN_IDS + " stop token ids are accepted, got " + stopTokenIds.size());
        }
        if (stopStrings.size() > MAX_STOP_STRINGS) {
            fail("stop", "stop accepts at most " + MAX_STOP_STRINGS + " strings, got " + stopStrings.size());
        }
        for (Integer id : stopTokenIds) {
            if (id == null || id < 0) fail("stop_token_ids", "stop token ids must be >= 0, got " + id);
        }
        for (String s : stopStrings) {
            if (s == null || s.isEmpty()) fail("stop", "stop strings must not be empty");
            if (s.length() > MAX_STOP_STRING_CHARS) {
                fail("stop", "a stop string may have at most " + MAX_STOP_STRING_CHARS + " chars, got " + s.length());
            }
        }
        return this;
    }

    private static void fail(String field, String message) {
        throw new InvalidGenerationException(field, message);
    }

    /** True when the next id is the argmax: sampling off, or temperature 0. */
    public boolean isGreedy() {
        return !doSample || temperature == 0;
    }

    public GenerationOptions withMaxNewTokens(int n) {
        return new GenerationOptions(n, doSample, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }

    /** Argmax decoding (the repetition penalty still applies unless set to 1). */
    public GenerationOptions withGreedy() {
        return new GenerationOptions(maxNewTokens, false, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }

    /** Sampling with these warpers (temperature, then top-k, then top-p, as transformers applies them). */
    public GenerationOptions withSampling(double temperature, int topK, double topP) {
        return new GenerationOptions(maxNewTokens, true, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }

    public GenerationOptions withRepetitionPenalty(double penalty) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, penalty, seed, stopTokenIds, stopStrings);
    }

    public GenerationOptions withSeed(Long s) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, s, stopTokenIds, stopStrings);
    }

    public GenerationOptions withStopTokenIds(List<Integer> ids) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, ids, stopStrings);
    }

    public GenerationOptions withStopStrings(List<String> strings) {
        return new GenerationOptions(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, strings);
    }
}
