package io.qwenaudio.generate;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.reference.ReferenceDecoder;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ONNX Runtime {@link io.qwenaudio.generate.Generator} on converted make-tiny checkpoints (presets tiny with a
 * domain adapter, and odd) against the naive reference decoder on the checkpoint weights.
 */
class GeneratorTest {

    @TempDir
    static Path tmp;
    static GenerateFixture tiny, odd;

    /**
     * Weight seeds whose greedy continuations of these prompts stay inside the tokenizer's ids, so the generated
     * text is not empty: with random weights about a quarter of the vocabulary (the padding beyond the tokenizer)
     * has no text.
     */

    @BeforeAll
    static void setUp() throws Exception {
        tiny = GenerateFixture.make(tmp, "tiny", GenerateFixture.TINY_SEED, true, 2.0);
        odd = GenerateFixture.make(tmp, "odd", GenerateFixture.ODD_SEED, false, 2.0);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (tiny != null) tiny.close();
        if (odd != null) odd.close();
    }

    static List<GenerateFixture> presets() {
        return List.of(tiny, odd);
    }

    /** The generator's ids are the reference's greedy ids. */
    static int checkGreedyParity(GenerateFixture f, Prompt p, FloatTensor rows, String label) throws Exception {
        return checkGreedyParity(f, p, rows, label, 24);
    }

    static int checkGreedyParity(GenerateFixture f, Prompt p, FloatTensor rows, String label, int max) throws Exception {
        Generation g = f.gen.generate(p, rows, f.argmax(max));
        int[] want = f.referenceGreedy(p, rows, max);
        int n = g.tokenIds().length;
        System.out.printf("[%s] greedy parity: %d of %d reference ids (%s), prompt %d positions%n", label, n, want.length,
                g.finishReason().value(), g.promptTokens());
        assertArrayEquals(want, g.tokenIds(), label);
        if (g.finishReason() == Generation.FinishReason.LENGTH) assertEquals(max, n);
        else assertEquals(Generation.FinishReason.STOP, g.finishReason(), label);
        return n;
    }

    @Test
    void greedyIdsEqualTheReference() throws Exception {
        int compared = 0;
        for (GenerateFixture f : presets()) {
            for (String text : List.of("What does the person say?", "Describe the sound.", "hello world")) {
                compared += checkGreedyParity(f, f.chat(text), f.audio, f.cfg.text().numHiddenLayers() + "L " + text);
            }
        }
        System.out.printf("greedy parity: %d ids compared%n", compared);
        assertTrue(compared >= 30, "too few ids compared: " + compared);
    }

    @Test
    void greedyIdsEqualTheReferenceWithTheAdapter() throws Exception {
        int compared = 0;
        for (String text : List.of("What does the person say?", "Describe the sound.", "hello world")) {
            compared += checkGreedyParity(tiny, tiny.chat(text), tiny.adaptedAudio, "tiny+ldv " + text);
        }
        assertTrue(compared >= 10, "too few ids compared: " + compared);
    }

    @Test
    void greedyIdsEqualTheReferenceOverA30SecondClip() throws Exception {
        int n = 750, h = (int) tiny.audio.dim(1), have = (int) tiny.audio.dim(0);
        float[] rows = new float[n * h];                              // the 2 s clip's rows repeated: [750, H]
        for (int i = 0; i < n; i++) System.arraycopy(tiny.audio.data(), (i % have) * h, rows, i * h, h);
        Prompt p = tiny.builder().build(List.of(ChatMessage.user(ChatMessage.audio(),
                ChatMessage.text("hello"))), new int[] {n});
        assertEquals(16, checkGreedyParity(tiny, p, FloatTensor.of(rows, n, h), "tiny 750 audio rows", 16));
    }

    @Test
    void kvCacheDecodeEqualsFullRecompute() throws Exception {
        for (GenerateFixture f : presets()) {
            Prompt p = f.chat("What does the person say?");
            Generation g = f.gen.generate(p, f.audio, f.argmax(12));
            double worst = 0;
            for (int k = 0; k < g.tokenIds().length; k++) {
                int[] ids = Arrays.copyOf(p.ids(), p.length() + k);
                System.arraycopy(g.tokenIds(), 0, ids, p.length(), k);
                Prompt pk = new Prompt(ids, p.audioStart(), p.audioLength());
                float[] full = f.gen.lastLogits(pk, f.audio);                      // [V] no cache, P = 0
                assertEquals(g.tokenIds()[k], Sampler.argmax(full), "step " + k);
                float[] want = f.ref.decoder().forward(f.ref.inputsEmbeds(ids, f.audio.data(), f.audioTokens()), ids.length).lastLogits();
                worst = Math.max(worst, Parity.relError(want, full));
            }
            System.out.printf("[%dL] %d cached steps == argmax of full recompute; recompute vs reference logits rel %.2e%n",
                    f.cfg.text().numHiddenLayers(), g.tokenIds().length, worst);
            assertTrue(g.tokenIds().length >= 2);
            assertTrue(worst <= 2.5e-6, "rel " + worst); // measured 6.2e-7 (3 layers), 6.1e-7 (2 layers)
        }
    }

    @Test
    void noDecodeHiddenStatesEqualTheReference() throws Exception {
        for (GenerateFixture f : presets()) {
            Prompt p = f.chat("What does the person say?");
            List<FloatTensor> hs = f.gen.hiddenStates(p, f.audio);
            int layers = f.cfg.text().numHiddenLayers(), h = f.cfg.text().hiddenSize();
            assertEquals(layers + 1, hs.size());
            ReferenceDecoder.Output want = f.ref.decoder().forward(f.ref.inputsEmbeds(p.ids(), f.audio.data(), f.audioTokens()), p.length());
            double worst = 0;
            for (int i = 0; i <= layers; i++) {
                assertArrayEquals(new long[] {p.length(), h}, hs.get(i).shape());
                worst = Math.max(worst, Parity.relError(want.hiddenStates()[i], hs.get(i).data()));
            }
            System.out.printf("[%dL] no-decode: %d hidden states [%d, %d], worst rel %.2e%n", layers, hs.size(), p.length(), h, worst);
            assertTrue(worst <= 2.5e-6, "rel " + worst); // measured 5.1e-7 (3 layers), 4.5e-7 (2 layers)
        }
    }

    static GenerationOptions sampling(GenerateFixture f, long seed) {
        return f.argmax(16).withSampling(1.5, 0, 1.0).withSeed(seed);
    }

    @Test
    void samplingIsReproducibleWithASeedAndSeedsDiffer() throws Exception {
        Prompt p = tiny.chat("What does the person say?");
        Generation a = tiny.gen.generate(p, tiny.audio, sampling(tiny, 7));
        Generation b = tiny.gen.generate(p, tiny.audio, sampling(tiny, 7));
        assertArrayEquals(a.tokenIds(), b.tokenIds());
        assertEquals(a.text(), b.text());
        Set<List<Integer>> outputs = new HashSet<>();
        for (long seed = 1; seed <= 6; seed++) {
            outputs.add(Arrays.stream(tiny.gen.generate(p, tiny.audio, sampling(tiny, seed)).tokenIds()).boxed().toList());
        }
        System.out.printf("sampling: seed 7 twice -> %s; seeds 1..6 -> %d distinct outputs%n", Arrays.toString(a.tokenIds()), outputs.size());
        assertTrue(outputs.size() >= 4, "seeds gave only " + outputs.size() + " distinct outputs");
    }

    @Test
    void topKOneEqualsGreedy() throws Exception {
        for (GenerateFixture f : presets()) {
            Prompt p = f.chat("Describe the sound.");
            Generation greedy = f.gen.generate(p, f.audio, f.argmax(12));
            Generation k1 = f.gen.generate(p, f.audio, f.argmax(12).withSampling(1.0, 1, 1.0).withSeed(3L));
            assertArrayEquals(greedy.tokenIds(), k1.tokenIds());
        }
    }

    @Test
    void repetitionPenaltyActsTheTransformersWay() throws Exception {
        Prompt p = tiny.chat("What does the person say?");
        double penalty = 3.0;
        float[] logits = tiny.gen.lastLogits(p, tiny.audio);        // [V] of the last prompt position
        Set<Integer> seen = new HashSet<>();
        for (int id : p.ids()) seen.add(id);
        float[] expected = logits.clone();
        for (int id : seen) expected[id] = expected[id] > 0 ? (float) (expected[id] / penalty) : (float) (expected[id] * penalty);
        Generation g = tiny.gen.generate(p, tiny.audio, tiny.argmax(8).withRepetitionPenalty(penalty));
        assertEquals(Sampler.argmax(expected), g.tokenIds()[0]);
        Generation plain = tiny.gen.generate(p, tiny.audio, tiny.argmax(8));
        System.out.printf("repetition penalty %.1f: %s vs none: %s%n", penalty, Arrays.toString(g.tokenIds()), Arrays.toString(plain.tokenIds()));
        assertNotEquals(Arrays.toString(plain.tokenIds()), Arrays.toString(g.tokenIds()));
        // the Sampler on its own, fed the prompt ids, picks the same first id
        Sampler s = new Sampler(tiny.argmax(8).withRepetitionPenalty(penalty));
        s.observe(p.ids());
        assertEquals(g.tokenIds()[0], s.next(logits.clone()));
    }

    /** Longest greedy text of the fixtures' prompts without stop ids, for the text tests. */
    static Generation longText(GenerateFixture f, Prompt[] chosen) throws Exception {
        Generation best = null;
        for (String text : List.of("What does the person say?", "Describe the sound.", "hello world", "Transcribe.")) {
            Prompt p = f.chat(text);
            Generation g = f.gen.generate(p, f.audio, f.argmax(40));
            if (best == null || g.text().length() > best.text().length()) {
                best = g;
                chosen[0] = p;
            }
        }
        return best;
    }

    @Test
    void stopStringsCutTheTextAndStreamingNeverShowsThem() throws Exception {
        Prompt[] chosen = new Prompt[1];
        Generation full = longText(tiny, chosen);
        String t = full.text();
        System.out.printf("text of %d ids: %s%n", full.tokenIds().length, t);
        assertTrue(t.length() >= 6, "generated text too short for the test: '" + t + "'");
        String stop = t.substring(t.length() / 2, t.length() / 2 + 3);
        StringBuilder streamed = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        int stopAt = t.indexOf(stop);
        Generation cut = tiny.gen.generate(chosen[0], tiny.audio, tiny.argmax(40).withStopStrings(List.of("\u0000never", stop)),
                (id, piece) -> {
                    ids.add(id);
                    streamed.append(piece);
                    assertTrue(streamed.length() <= stopAt && t.startsWith(streamed.toString()), "streamed text reached into the stop string");
                    return true;
                });
        assertEquals(t.substring(0, t.indexOf(stop)), cut.text());
        assertEquals(cut.text(), streamed.toString());
        assertEquals(Generation.FinishReason.STOP, cut.finishReason());
        assertEquals(ids, Arrays.stream(cut.tokenIds()).boxed().toList());
        assertTrue(cut.tokenIds().length < full.tokenIds().length);
        // a stop string whose start keeps appearing but never completes: held back, then released in full
        String never = t.substring(0, 2) + "\u0001";
        StringBuilder streamed2 = new StringBuilder();
        Generation all = tiny.gen.generate(chosen[0], tiny.audio, tiny.argmax(40).withStopStrings(List.of(never)), (id, piece) -> {
            streamed2.append(piece);
            return true;
        });
        assertEquals(t, all.text());
        assertEquals(t, streamed2.toString());
        assertEquals(Generation.FinishReason.LENGTH, all.finishReason());
    }

    @Test
    void undecodableIdsAddNoTextAndGenerationGoesOn() throws Exception {
        Prompt p = tiny.chat("What does the person say?");
        int found = 0;
        for (long seed = 1; seed <= 10; seed++) {
            Generation g = tiny.gen.generate(p, tiny.audio, sampling(tiny, seed).withMaxNewTokens(40));
            int[] ids = g.tokenIds();
            for (int i = 0; i < ids.length - 1; i++) {
                if (tiny.gen.tokenizer().decode(new int[] {ids[i]}).isEmpty()) {
                    found++; // an id without text, and more ids after it
                    assertTrue(ids[i] < tiny.cfg.text().vocabSize());
                }
            }
            assertEquals(tiny.gen.tokenizer().decode(visible(g)), g.text());
        }
        System.out.printf("%d undecodable ids inside 10 sampled generations%n", found);
        assertTrue(found > 0);
    }

    @Test
    void streamedPiecesConcatenateToTheText() throws Exception {
        for (GenerateFixture f : presets()) {
            Prompt p = f.chat("What does the person say?");
            StringBuilder streamed = new StringBuilder();
            int[] calls = {0};
            Generation g = f.gen.generate(p, f.audio, sampling(f, 11).withMaxNewTokens(30), (id, piece) -> {
                calls[0]++;
                streamed.append(piece);
                return true;
            });
            assertEquals(g.tokenIds().length, calls[0]);
            assertEquals(g.text(), streamed.toString());
            assertEquals(f.gen.tokenizer().decode(visible(g)), g.text());
        }
    }

    /** The ids whose text is shown: all but a final stop id. */
    static int[] visible(Generation g) {
        int n = g.tokenIds().length;
        boolean lastHidden = g.finishReason() == Generation.FinishReason.STOP;
        return Arrays.copyOf(g.tokenIds(), lastHidden ? n - 1 : n);
    }

    @Test
    void stopTokenEndsTheGenerationWithoutItsText() throws Exception {
        Prompt p = tiny.chat("What does the person say?");
        Generation g = tiny.gen.generate(p, tiny.audio, tiny.argmax(20));
        assertTrue(g.tokenIds().length >= 3, "need 3 ids, got " + Arrays.toString(g.tokenIds()));
        int stopId = g.tokenIds()[2];
        Generation s = tiny.gen.generate(p, tiny.audio, tiny.argmax(20).withStopTokenIds(List.of(stopId)));
        int first = 0;
        while (g.tokenIds()[first] != stopId) first++;
        assertArrayEquals(Arrays.copyOf(g.tokenIds(), first + 1), s.tokenIds());
        assertEquals(Generation.FinishReason.STOP, s.finishReason());
        assertEquals(tiny.gen.tokenizer().decode(Arrays.copyOf(g.tokenIds(), first)), s.text());
    }

    @Test
    void listenerCancels() throws Exception {
        Prompt p = tiny.chat("What does the person say?");
        int[] calls = {0};
        Generation g = tiny.gen.generate(p, tiny.audio, tiny.argmax(30), (id, piece) -> ++calls[0] < 2);
        assertEquals(Generation.FinishReason.CANCELLED, g.finishReason());
        assertEquals(2, g.tokenIds().length);
    }

    @Test
    void oneGeneratorServesConcurrentRequests() throws Exception {
        List<Prompt> prompts = new ArrayList<>();
        List<Generation> sequential = new ArrayList<>();
        for (String text : List.of("What does the person say?", "Describe the sound.", "hello world", "Transcribe.")) {
            Prompt p = tiny.chat(text);
            prompts.add(p);
            sequential.add(tiny.gen.generate(p, tiny.audio, tiny.argmax(16)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Generation>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (Prompt p : prompts) futures.add(pool.submit(() -> tiny.gen.generate(p, tiny.audio, tiny.argmax(16))));
            }
            for (int i = 0; i < futures.size(); i++) {
                Generation g = futures.get(i).get();
                assertArrayEquals(sequential.get(i % prompts.size()).tokenIds(), g.tokenIds());
                assertEquals(sequential.get(i % prompts.size()).text(), g.text());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void contextOverflowNamesBothNumbers() {
        Prompt p = tiny.chat("What does the person say?");
        int limit = tiny.cfg.text().maxPositionEmbeddings();
        int max = limit - p.length() + 1;
        ContextOverflowException e = assertThrows(ContextOverflowException.class,
                () -> tiny.gen.generate(p, tiny.audio, tiny.argmax(max)));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains(String.valueOf(p.length())) && e.getMessage().contains(String.valueOf(max))
                && e.getMessage().contains(String.valueOf(limit)), e.getMessage());
        assertEquals(p.length() + max, e.requested());
        assertEquals(limit, e.limit());
        assertTrue(e instanceof InvalidGenerationException);
    }

    @Test
    void invalidOptionsAndInputsAreRejectedInOneLine() {
        Prompt p = tiny.chat("What does the person say?");
        GenerationOptions o = tiny.argmax(4);
        record Bad(GenerationOptions o, String message) {
        }
        for (Bad b : List.of(
                new Bad(o.withSampling(-1, 0, 1.0), "temperature must be >= 0 and finite, got -1.0"),
                new Bad(o.withSampling(1, 0, 1.5), "top_p must be in (0, 1], got 1.5"),
                new Bad(o.withSampling(1, 0, 0), "top_p must be in (0, 1], got 0.0"),
                new Bad(o.withSampling(1, -2, 1), "top_k must be >= 0 (0 = no limit), got -2"),
                new Bad(o.withRepetitionPenalty(0), "repetition_penalty must be > 0 and finite (1 = none), got 0.0"),
                new Bad(o.withMaxNewTokens(0), "max_new_tokens must be >= 1, got 0"),
                new Bad(o.withStopStrings(List.of("")), "stop strings must not be empty"))) {
            InvalidGenerationException e = assertThrows(InvalidGenerationException.class, () -> tiny.gen.generate(p, tiny.audio, b.o()));
            assertEquals(b.message(), e.getMessage());
        }
        FloatTensor fewer = FloatTensor.of(Arrays.copyOf(tiny.audio.data(), (int) ((tiny.audio.dim(0) - 1) * tiny.audio.dim(1))),
                tiny.audio.dim(0) - 1, tiny.audio.dim(1));
        InvalidGenerationException e = assertThrows(InvalidGenerationException.class, () -> tiny.gen.generate(p, fewer, o));
        assertTrue(e.getMessage().startsWith("audio embeddings must be [" + tiny.audioTokens()), e.getMessage());
        int v = tiny.cfg.text().vocabSize();
        Prompt outside = new Prompt(new int[] {1, v}, new int[0], new int[0]);
        e = assertThrows(InvalidGenerationException.class, () -> tiny.gen.generate(outside, null, o));
        assertEquals("prompt token id " + v + " at position 1 is outside the vocabulary [0, " + v + ")", e.getMessage());
    }

    @Test
    void textOnlyPromptGeneratesLikeTheReference() throws Exception {
        int[] ids = tiny.gen.tokenizer().encode("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n");
        Prompt p = new Prompt(ids, new int[0], new int[0]);
        Generation g = tiny.gen.generate(p, null, tiny.argmax(10));
        int[] want = tiny.ref.greedy(ids, new float[0], 0, 10, new int[0]);
        assertArrayEquals(Arrays.copyOf(want, g.tokenIds().length), g.tokenIds());
    }
}
