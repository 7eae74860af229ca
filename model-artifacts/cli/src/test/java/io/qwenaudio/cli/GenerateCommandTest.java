package io.qwenaudio.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.generate.GenerateFixture;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder.Prompt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code qwen-audio generate} against the {@link io.qwenaudio.generate.Generator} API on the same artifacts. */
class GenerateCommandTest {

    @TempDir
    static Path tmp;
    static GenerateFixture f;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void setUp() throws Exception {
        f = GenerateFixture.make(tmp, "tiny", GenerateFixture.TINY_SEED, true, 2.0);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (f != null) f.close();
    }

    static CheckpointCommandsTest.Run generate(String... options) {
        List<String> args = new ArrayList<>(List.of("generate", f.art.toString(), f.wav.toString()));
        args.addAll(List.of(options));
        return run(args.toArray(String[]::new));
    }

    static JsonNode json(CheckpointCommandsTest.Run r) throws Exception {
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(r.out());
    }

    static void assertSame(Generation want, JsonNode got) {
        int[] ids = new int[got.get("token_ids").size()];
        for (int i = 0; i < ids.length; i++) ids[i] = got.get("token_ids").get(i).asInt();
        assertArrayEquals(want.tokenIds(), ids);
        assertEquals(want.text(), got.get("text").asText());
        assertEquals(want.finishReason().value(), got.get("finish_reason").asText());
        assertEquals(want.promptTokens(), got.get("prompt_tokens").asInt());
    }

    GenerationOptions greedy(int n) {
        return f.gen.defaults().withGreedy().withRepetitionPenalty(1.0).withMaxNewTokens(n);
    }

    @Test
    void jsonOutputEqualsTheApi() throws Exception {
        JsonNode got = json(generate("--greedy", "--max-new-tokens", "12", "--json"));
        Generation want = f.gen.generate(f.chat(GenerateStage.DEFAULT_PROMPT), f.audio, greedy(12));
        System.out.println("generate --json: " + got);
        assertEquals(12, want.tokenIds().length);
        assertSame(want, got);
    }

    @Test
    void environmentPromptAndSystemReachTheModel() throws Exception {
        JsonNode got = json(generate("--greedy", "--max-new-tokens", "10", "--json", "--environment", "ldv",
                "--prompt", "Describe the sound.", "--system", "Be brief."));
        Prompt p = f.builder().build(List.of(ChatMessage.system("Be brief."),
                ChatMessage.user(ChatMessage.audio(), ChatMessage.text("Describe the sound."))), new int[] {f.audioTokens()});
        assertSame(f.gen.generate(p, f.adaptedAudio, greedy(10)), got);
    }

    @Test
    void samplingFlagsAndSeedMapToTheOptions() throws Exception {
        String[] args = {"--temperature", "1.3", "--top-k", "12", "--seed", "5", "--max-new-tokens", "10", "--json"};
        JsonNode a = json(generate(args)), b = json(generate(args));
        assertEquals(a, b);
        GenerationOptions d = f.gen.defaults();
        GenerationOptions o = d.withSampling(1.3, 12, d.topP()).withSeed(5L).withMaxNewTokens(10); // top_p, penalty from config
        assertSame(f.gen.generate(f.chat(GenerateStage.DEFAULT_PROMPT), f.audio, o), a);
    }

    @Test
    void streamedStdoutEqualsTheJsonText() throws Exception {
        JsonNode got = json(generate("--greedy", "--max-new-tokens", "16", "--json"));
        CheckpointCommandsTest.Run r = generate("--greedy", "--max-new-tokens", "16");
        assertEquals(0, r.code(), r.err());
        assertEquals(got.get("text").asText() + System.lineSeparator(), r.out());
        assertTrue(r.err().contains("new tokens") && r.err().contains("tokens/s"), r.err());
    }

    @Test
    void promptIdsReplaceTheTemplate() throws Exception {
        int[] ids = f.gen.tokenizer().encode("<|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:");
        JsonNode got = json(generate("--greedy", "--max-new-tokens", "12", "--json", "--prompt-ids",
                String.join(",", Arrays.stream(ids).mapToObj(String::valueOf).toList())));
        Prompt p = f.builder().expand(ids, new int[] {f.audioTokens()});
        assertEquals(ids.length - 1 + f.audioTokens(), p.length());
        Generation want = f.gen.generate(p, f.audio, greedy(12));
        assertSame(want, got);
        int[] ref = f.referenceGreedy(p, f.audio, 12);
        assertArrayEquals(Arrays.copyOf(ref, want.tokenIds().length), want.tokenIds());
    }

    static void badInput(String expected, String... options) {
        CheckpointCommandsTest.Run r = generate(options);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void badInputExitsTwoWithOneLine() {
        int audioId = f.model.manifest().specialTokens().audioTokenId(), v = f.cfg.text().vocabSize();
        badInput("qwen-audio generate: --top-p must be in (0, 1], got 1.5", "--top-p", "1.5");
        badInput("--temperature must be >= 0", "--temperature", "-1");
        badInput("--repetition-penalty must be > 0", "--repetition-penalty", "0");
        badInput("--max-new-tokens must be >= 1, got 0", "--max-new-tokens", "0");
        badInput("does not fit in the model's context of " + f.cfg.text().maxPositionEmbeddings(), "--max-new-tokens", "5000");
        badInput("--greedy cannot be combined", "--greedy", "--temperature", "0.5");
        badInput("--prompt-ids must be comma-separated token ids", "--prompt-ids", "1,x");
        badInput("1 audio clip(s)", "--prompt-ids", "1,2,3");
        badInput("outside the vocabulary [0, " + v + ")", "--prompt-ids", audioId + "," + v);
        badInput("do not combine it with --prompt", "--prompt-ids", String.valueOf(audioId), "--prompt", "hi");
        badInput("office", "--environment", "office");
        CheckpointCommandsTest.Run r = run("generate", f.ck.toString(), f.wav.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("qwen-audio convert"), r.err());
    }

    /** 2 s of audio give 50 audio positions of the language model's width. */
    @Test
    void fixtureAudioHasOneRowPerAudioToken() {
        FloatTensor a = f.audio;
        assertEquals(f.cfg.text().hiddenSize(), a.dim(1));
        assertEquals(50, a.dim(0)); // 2 s of audio: 200 mel frames -> 100 -> 50 tokens
    }
}
