package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.qwenaudio.artifacts.TokenizerJson;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small Qwen2-style byte-level BPE tokenizer trained deterministically on an embedded English + Chinese
 * sentence list, written as the Hugging Face files ({@code tokenizer.json}, {@code vocab.json},
 * {@code merges.txt}, {@code tokenizer_config.json}). Layout as in Qwen2: the 256 byte symbols first, then the
 * learned merges, then the special tokens. Used by {@link MakeTiny}.
 */
public final class TinyTokenizer {

    /** The Qwen2 pre-tokenizer split regex (as in Qwen2's tokenizer.json). */
    public static final String QWEN2_SPLIT_REGEX = TokenizerJson.QWEN2_SPLIT_REGEX;

    /** Special tokens in id order, placed right after the BPE vocabulary. */
    public static final List<String> SPECIAL_TOKENS = List.of(
            "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>");

    /**
     * The chat template of Qwen2-Audio-7B-Instruct ({@code tokenizer_config.json}'s {@code chat_template}; the same text
     * as transformers' {@code Qwen2AudioProcessor.default_chat_template}), kept in {@code qwen2-audio-instruct.jinja}.
     */
    public static final String CHAT_TEMPLATE = resource("qwen2-audio-instruct.jinja");

    private static final String[] CORPUS = {
            "The quick brown fox jumps over the lazy dog.",
            "Describe the music in this recording.",
            "What is the speaker saying in the audio?",
            "Please transcribe the following speech into text.",
            "The sound of rain on the window was calm and steady.",
            "A dog is barking while a car passes by on the street.",
            "She said that the meeting will start at nine o'clock.",
            "The orchestra played a slow piece with violins and a piano.",
            "There is a man speaking English with a British accent.",
            "The machine makes a loud humming noise when it is running.",
            "Birds are singing in the trees near the river this morning.",
            "I'm sure we'll find the answer if we listen carefully.",
            "The laser vibrometer measured the vibration of the glass.",
            "Classify the emotion of the speaker: happy, sad, angry or neutral.",
            "You are a helpful assistant.",
            "Audio 1: what do you hear?",
            "这段音频里说了什么？",
            "请描述这段音乐的风格。",
            "今天天气很好，我们去公园散步吧。",
            "说话的人听起来很高兴。",
            "这是一段钢琴演奏的音乐。",
            "请把这段语音转写成文字。",
            "我们在会议室里讨论了新的计划。",
            "外面下着雨，窗户上有雨声。",
            "Numbers like 12, 345 and 2024 are split digit by digit.",
            "The temperature was 21.5 degrees and the wind was light.",
    };

    private final List<String> byteSymbols;     // id -> symbol for ids 0..255
    private final List<String[]> merges;        // merge rank -> pair
    private final Map<String, Integer> vocab;   // symbol -> id, bytes then merges

    private TinyTokenizer(List<String> byteSymbols, List<String[]> merges, Map<String, Integer> vocab) {
        this.byteSymbols = byteSymbols;
        this.merges = merges;
        this.vocab = vocab;
    }

    /** Trains {@code numMerges} BPE merges on the embedded corpus; the result depends on nothing else. */
    public static TinyTokenizer train(int numMerges) {
        char[] b2u = TokenizerJson.bytesToUnicode();
        List<String> byteSymbols = new ArrayList<>();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b : byteOrder()) {
            String s = String.valueOf(b2u[b]);
            byteSymbols.add(s);
            vocab.put(s, vocab.size());
        }
        // word (as byte symbols) -> count
        Map<List<String>, Integer> words = new LinkedHashMap<>();
        Pattern split = Pattern.compile(QWEN2_SPLIT_REGEX);
        for (String sentence : CORPUS) {
            Matcher m = split.matcher(Normalizer.normalize(sentence, Normalizer.Form.NFC));
            while (m.find()) {
                List<String> w = new ArrayList<>();
                for (byte x : m.group().getBytes(StandardCharsets.UTF_8)) w.add(String.valueOf(b2u[x & 0xff]));
                words.merge(w, 1, Integer::sum);
            }
        }
        List<List<String>> seqs = new ArrayList<>(words.keySet());
        List<Integer> counts = new ArrayList<>(words.values());
        List<String[]> merges = new ArrayList<>();
        for (int step = 0; step < numMerges; step++) {
            Map<String, Integer> pairCounts = new TreeMap<>(); // sorted keys: ties broken by the pair text
            for (int i = 0; i < seqs.size(); i++) {
                List<String> s = seqs.get(i);
                for (int j = 0; j + 1 < s.size(); j++) pairCounts.merge(s.get(j) + " " + s.get(j + 1), counts.get(i), Integer::sum);
            }
            String best = null;
            int bestCount = 0; // pairs seen once still merge, ties broken by the pair text
            for (Map.Entry<String, Integer> e : pairCounts.entrySet()) {
                if (e.getValue() > bestCount) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) break; // every word is a single symbol
            String[] pair = best.split(" ");
            String merged = pair[0] + pair[1];
            merges.add(pair);
            vocab.putIfAbsent(merged, vocab.size());
            for (int i = 0; i < seqs.size(); i++) seqs.set(i, applyMerge(seqs.get(i), pair[0], pair[1]));
        }
        return new TinyTokenizer(byteSymbols, merges, vocab);
    }

    private static List<String> applyMerge(List<String> s, String a, String b) {
        List<String> out = new ArrayList<>(s.size());
        for (int j = 0; j < s.size(); j++) {
            if (j + 1 < s.size() && s.get(j).equals(a) && s.get(j + 1).equals(b)) {
                out.add(a + b);
                j++;
            } else {
                out.add(s.get(j));
            }
        }
        return out;
    }

    /** BPE vocabulary size (bytes + merges), i.e. the id of the first special token. */
    public int bpeSize() {
        return vocab.size();
    }

    /** Id of a special token. */
    public int specialId(String token) {
        int i = SPECIAL_TOKENS.indexOf(token);
        if (i < 0) throw new IllegalArgumentException("not a special token: " + token);
        return bpeSize() + i;
    }

    /** Number of ids in use (BPE + special tokens). */
    public int size() {
        return bpeSize() + SPECIAL_TOKENS.size();
    }

    /** Writes tokenizer.json, vocab.json, merges.txt and tokenizer_config.json into {@code dir}. */
    public void write(Path dir, int modelMaxLength) throws IOException {
        ObjectMapper m = new ObjectMapper();
        List<TokenizerJson.AddedToken> addedTokens = new ArrayList<>();
        for (String t : SPECIAL_TOKENS) addedTokens.add(new TokenizerJson.AddedToken(specialId(t), t, true));
        List<String> mergeLines = new ArrayList<>();
        for (String[] p : merges) mergeLines.add(p[0] + " " + p[1]);
        ObjectNode root = TokenizerJson.qwen2(vocab, mergeLines, addedTokens);
        write(dir.resolve("tokenizer.json"), m.writerWithDefaultPrettyPrinter().writeValueAsString(root));

        ObjectNode vj = m.createObjectNode();
        vocab.forEach(vj::put);
        write(dir.resolve("vocab.json"), m.writeValueAsString(vj));
        StringBuilder mt = new StringBuilder("#version: 0.2\n");
        for (String[] p : merges) mt.append(p[0]).append(' ').append(p[1]).append('\n');
        Files.writeString(dir.resolve("merges.txt"), mt.toString(), StandardCharsets.UTF_8);

        ObjectNode tc = m.createObjectNode();
        tc.put("add_bos_token", false).put("add_prefix_space", false);
        ObjectNode atd = tc.putObject("added_tokens_decoder");
        for (String t : SPECIAL_TOKENS) {
            atd.putObject(String.valueOf(specialId(t))).put("content", t).put("lstrip", false).put("normalized", false)
                    .put("rstrip", false).put("single_word", false).put("special", true);
        }
        ArrayNode extra = tc.putArray("additional_special_tokens");
        for (String t : SPECIAL_TOKENS.subList(1, SPECIAL_TOKENS.size())) extra.add(t);
        tc.putNull("bos_token");
        tc.put("chat_template", CHAT_TEMPLATE);
        tc.put("clean_up_tokenization_spaces", false);
        tc.put("eos_token", "<|im_end|>");
        tc.put("errors", "replace");
        tc.put("model_max_length", modelMaxLength);
        tc.put("pad_token", "<|endoftext|>");
        tc.put("split_special_tokens", false);
        tc.put("tokenizer_class", "Qwen2Tokenizer");
        tc.putNull("unk_token");
        write(dir.resolve("tokenizer_config.json"), m.writerWithDefaultPrettyPrinter().writeValueAsString(tc));
    }

    private static String resource(String name) {
        try (var in = TinyTokenizer.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException(name + " is missing from the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path p, String text) throws IOException {
        Files.writeString(p, text + "\n", StandardCharsets.UTF_8);
    }

    /** GPT-2 byte order: printable bytes first ('!'..'~', '¡'..'¬', '®'..'ÿ'), then the rest. */
    private static List<Integer> byteOrder() {
        List<Integer> order = new ArrayList<>();
        boolean[] seen = new boolean[256];
        for (int b = '!'; b <= '~'; b++) { order.add(b); seen[b] = true; }
        for (int b = 0xA1; b <= 0xAC; b++) { order.add(b); seen[b] = true; }
        for (int b = 0xAE; b <= 0xFF; b++) { order.add(b); seen[b] = true; }
        for (int b = 0; b < 256; b++) if (!seen[b]) order.add(b);
        return order;
    }

    /** Symbol -> id of the BPE part (for tests). */
    public Map<String, Integer> vocab() {
        return new HashMap<>(vocab);
    }
}
