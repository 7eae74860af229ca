package io.qwenaudio.text;

import io.qwenaudio.artifacts.TokenizerJson;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The Qwen2 byte-level BPE tokenizer of a checkpoint or artifacts directory, run by the Hugging Face
 * {@code tokenizers} library (Rust) through its DJL Java bindings, which bundle the native library for
 * linux-x86_64/aarch64, macOS and Windows: the same code that produced the model's training data, instead of a
 * hand-written BPE. {@link #encode(String)} keeps special and added tokens written in the text
 * ({@code <|im_start|>}, {@code <|AUDIO|>}) whole and maps them to their ids (raw prompts);
 * {@link #encodePlain(String)} encodes such strings as ordinary characters (user text), and
 * {@link #encode(RenderedPrompt)} does each where it belongs. Nothing is added, truncated or padded.
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

    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "false", "truncation", "false", "padding", "false",
            "modelMaxLength", String.valueOf(Integer.MAX_VALUE));

    private final HuggingFaceTokenizer hf;
    /** The same tokenizer without its added tokens: {@code <|AUDIO|>} in the text is just characters. */
    private final HuggingFaceTokenizer plain;
    private final Map<String, Integer> added;

    private Tokenizer(HuggingFaceTokenizer hf, HuggingFaceTokenizer plain, Map<String, Integer> added) {
        this.hf = hf;
        this.plain = plain;
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
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json, OPTIONS);
            HuggingFaceTokenizer plain;
            try (InputStream in = new ByteArrayInputStream(withoutAddedTokens(json))) {
                plain = HuggingFaceTokenizer.newInstance(in, OPTIONS);
            } catch (IOException | RuntimeException e) {
                hf.close();
                throw e;
            }
            return new Tokenizer(hf, plain, TokenizerJson.addedTokens(json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer from " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}; special tokens written in the text become their ids (raw prompts only). */
    public int[] encode(String text) {
        return ids(hf.encode(text, false, false));
    }

    /**
     * Token ids of {@code text} as plain text: {@code <|AUDIO|>}, {@code <|im_start|>} etc. written in it are
     * encoded as their characters, as transformers does with {@code split_special_tokens=True} (and vLLM for user
     * content). For text that comes from a user.
     */
    public int[] encodePlain(String text) {
        if (text.isEmpty()) return new int[0];
        return ids(plain.encode(text, false, false));
    }

    /**
     * Token ids of a rendered chat prompt: the template's text may hold special tokens, message text never does.
     * Equals {@link #encode(String)} of {@link RenderedPrompt#text()} whenever the messages hold no special-token
     * strings (the text between two special tokens is encoded as one run, exactly as the tokenizer would).
     */
    public int[] encode(RenderedPrompt prompt) {
        IntList out = new IntList();
        StringBuilder run = new StringBuilder(); // text since the last special token
        for (RenderedPrompt.Segment g : prompt.segments()) {
            if (!g.fromTemplate()) {
                run.append(g.text());
                continue;
            }
            String t = g.text();
            int at = 0;
            while (at < t.length()) {
                int[] hit = nextAddedToken(t, at); // {index, length, id}
                if (hit == null) {
                    run.append(t, at, t.length());
                    break;
                }
                run.append(t, at, hit[0]);
                out.addAll(encodePlain(run.toString()));
                run.setLength(0);
                out.add(hit[2]);
                at = hit[0] + hit[1];
            }
        }
        out.addAll(encodePlain(run.toString()));
        return out.toArray();
    }

    /** The leftmost (then longest) added token in {@code t} at or after {@code from}: index, length, id; or null. */
    private int[] nextAddedToken(String t, int from) {
        int[] best = null;
        for (Map.Entry<String, Integer> e : added.entrySet()) {
            int i = t.indexOf(e.getKey(), from);
            if (i < 0) continue;
            if (best == null || i < best[0] || (i == best[0] && e.getKey().length() > best[1])) {
                best = new int[] {i, e.getKey().length(), e.getValue()};
            }
        }
        return best;
    }

    /** {@code tokenizer.json} with an empty {@code added_tokens} list (model, normaliser, pre-tokenizer unchanged). */
    private static byte[] withoutAddedTokens(Path json) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = (ObjectNode) m.readTree(json.toFile());
        root.putArray("added_tokens");
        return m.writeValueAsBytes(root);
    }

    private static int[] ids(Encoding e) {
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** A growable int array. */
    private static final class IntList {
        private int[] a = new int[64];
        private int n;

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] v) {
            for (int x : v) add(x);
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
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
        plain.close();
    }
}
