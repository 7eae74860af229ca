package io.qwenaudio.text;

import io.qwenaudio.artifacts.TokenizerJson;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Qwen2 byte-level BPE tokenizer of a checkpoint or artifacts directory, run by the Hugging Face
 * {@code tokenizers} library (Rust) through its DJL Java bindings, which bundle the native library for
 * linux-x86_64/aarch64, macOS and Windows: the same code that produced the model's training data, instead of a
 * hand-written BPE. Special and added tokens written in the text ({@code <|im_start|>}, {@code <|AUDIO|>}) are
 * kept whole and map to their ids; nothing is added, truncated or padded.
 *
 * <p>Loads {@code tokenizer.json}; a directory with only {@code vocab.json} + {@code merges.txt} (+
 * {@code tokenizer_config.json}) is first turned into an equivalent {@code tokenizer.json} by
 * {@link TokenizerJson}.
 *
 * <p>Native library: extracted on first use to {@code $DJL_CACHE_DIR} (default {@code ~/.djl.ai}); in a
 * container set {@code DJL_CACHE_DIR} to a writable directory. This class sets {@code ai.djl.offline=true} so the
 * library never tries to download anything at run time. Thread-safe.
 */
public final class Tokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer hf;
    private final Map<String, Integer> added;

    private Tokenizer(HuggingFaceTokenizer hf, Map<String, Integer> added) {
        this.hf = hf;
        this.added = added;
    }

    /** Loads the tokenizer files from {@code dir}. */
    public static Tokenizer load(Path dir) {
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        Path json = dir.resolve("tokenizer.json");
        try {
            if (!Files.isRegularFile(json)) {
                if (!Files.isRegularFile(dir.resolve("vocab.json")) || !Files.isRegularFile(dir.resolve("merges.txt"))) {
                    throw new IllegalArgumentException("no tokenizer files in " + dir
                            + ": need tokenizer.json, or vocab.json + merges.txt (+ tokenizer_config.json)");
                }
                json = TokenizerJson.fromVocabAndMerges(dir);
            }
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json, Map.of(
                    "addSpecialTokens", "false", "truncation", "false", "padding", "false",
                    "modelMaxLength", String.valueOf(Integer.MAX_VALUE)));
            return new Tokenizer(hf, TokenizerJson.addedTokens(json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer from " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}; special tokens written in the text become their ids. */
    public int[] encode(String text) {
        Encoding e = hf.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** Text of {@code ids}, special tokens included; incomplete UTF-8 at the end becomes U+FFFD. */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return hf.decode(l, false);
    }

    /** Id of an added/special token such as {@code <|im_end|>}; throws if the tokenizer has none. */
    public int tokenId(String token) {
        Integer id = added.get(token);
        if (id != null) return id;
        int[] ids = encode(token);
        if (ids.length == 1) return ids[0];
        throw new IllegalArgumentException("token '" + token + "' is not a single token of this tokenizer");
    }

    /** A per-request decoder that emits text as tokens arrive, never splitting a UTF-8 character. */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    @Override
    public void close() {
        hf.close();
    }
}
