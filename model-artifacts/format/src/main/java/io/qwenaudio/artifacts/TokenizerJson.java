package io.qwenaudio.artifacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face {@code tokenizer.json} of a Qwen2 byte-level BPE: NFC normaliser, the Qwen2 split regex then
 * ByteLevel (no prefix space, no regex), ByteLevel decoder, BPE model without unk or byte fallback, added tokens
 * kept whole. Builds one from {@code vocab.json} + {@code merges.txt} (+ {@code tokenizer_config.json}'s
 * {@code added_tokens_decoder}) when a checkpoint ships only those, and reads the added tokens of one.
 */
public final class TokenizerJson {

    /** The Qwen2 pre-tokenizer split regex (as in Qwen2's tokenizer.json). */
    public static final String QWEN2_SPLIT_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** An added token: id, text, and whether it is special (skipped by "skip special tokens" decoding). */
    public record AddedToken(int id, String content, boolean special) {
    }

    private TokenizerJson() {
    }

    /** GPT-2 bytes_to_unicode: printable bytes map to themselves, the others to 256, 257, ... in byte order. */
    public static char[] bytesToUnicode() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) map[b] = printable[b] ? (char) b : (char) (256 + n++);
        return map;
    }

    /** A vocabulary of the 256 byte symbols only (id = byte value): one token per UTF-8 byte, for tests. */
    public static Map<String, Integer> byteVocab() {
        char[] b2u = bytesToUnicode();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(b2u[b]), b);
        return vocab;
    }

    /** The tokenizer.json document for a Qwen2 BPE vocabulary, merges (as "a b") and added tokens. */
    public static ObjectNode qwen2(Map<String, Integer> vocab, List<String> merges, List<AddedToken> addedTokens) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (AddedToken t : addedTokens) {
            added.addObject().put("id", t.id()).put("content", t.content()).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", t.special());
        }
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        ObjectNode split = pres.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", QWEN2_SPLIT_REGEX);
        split.put("behavior", "Isolated").put("invert", false);
        byteLevel(pres.addObject());
        byteLevel(root.putObject("post_processor"));
        byteLevel(root.putObject("decoder"));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false)
                .put("byte_fallback", false).put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode mg = model.putArray("merges");
        merges.forEach(mg::add);
        return root;
    }

    private static void byteLevel(ObjectNode n) {
        n.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", false);
    }

    /** Writes a tokenizer.json built from {@code dir}'s vocab.json + merges.txt to a temporary file. */
    public static Path fromVocabAndMerges(Path dir) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        JsonNode vj = JSON.readTree(dir.resolve("vocab.json").toFile());
        for (Iterator<Map.Entry<String, JsonNode>> it = vj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        List<String> merges = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("merges.txt"), StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            merges.add(line);
        }
        List<AddedToken> added = new ArrayList<>();
        Path tc = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tc)) {
            JsonNode dec = JSON.readTree(tc.toFile()).path("added_tokens_decoder");
            for (Iterator<Map.Entry<String, JsonNode>> it = dec.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                added.add(new AddedToken(Integer.parseInt(e.getKey()), e.getValue().path("content").asText(),
                        e.getValue().path("special").asBoolean(true)));
            }
        }
        Path out = Files.createTempFile("qwen-audio-tokenizer-", ".json");
        out.toFile().deleteOnExit();
        JSON.writeValue(out.toFile(), qwen2(vocab, merges, added));
        return out;
    }

    /** Added tokens of a tokenizer.json: content -> id. */
    public static Map<String, Integer> addedTokens(Path tokenizerJson) throws IOException {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (JsonNode t : JSON.readTree(tokenizerJson.toFile()).path("added_tokens")) {
            out.put(t.path("content").asText(), t.path("id").asInt());
        }
        return out;
    }
}
