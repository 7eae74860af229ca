package io.qwenaudio.generate;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.runtime.binding.NativeCounts;
import io.qwenaudio.runtime.binding.OrtCApi;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.PromptBuilder.Prompt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding through ONNX Runtime's IO binding (the default, with the KV cache in one full-length buffer bound as both
 * past and present, which GroupQueryAttention writes in place) and through IO binding with a new present cache per
 * run, against the plain Java API path on the same sessions: identical greedy ids and identical logits at every step (presets tiny with and without its domain adapter, odd,
 * mid; 16 concurrent generations), no native object left behind over 1,000 generations, and the one private handle
 * of the official jar the binding reads.
 */
class IoBindingTest {

    @TempDir
    static Path tmp;
    static GenerateFixture tiny, odd, mid;

    @BeforeAll
    static void setUp() throws Exception {
        tiny = GenerateFixture.make(tmp, "tiny", GenerateFixture.TINY_SEED, true, 2.0);
        odd = GenerateFixture.make(tmp, "odd", GenerateFixture.ODD_SEED, false, 2.0);
        mid = GenerateFixture.make(tmp, "mid", 3, false, 2.0);
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (GenerateFixture f : new GenerateFixture[] {tiny, odd, mid}) if (f != null) f.close();
    }

    /** A generation and the logits of every step. */
    record Run(Generation g, List<float[]> logits) {
    }

    static Run run(Generator gen, Prompt p, FloatTensor rows, GenerationOptions o) throws Exception {
        List<float[]> logits = new ArrayList<>();
        Generation g = gen.generate(p, rows, o, new TokenListener() {
            @Override
            public boolean onToken(int tokenId, String text) {
                return true;
            }

            @Override
            public void onLogits(float[] l) {
                logits.add(l.clone());
            }
        });
        return new Run(g, logits);
    }

    /** Bound and plain runs give the same ids and bit-identical logits; returns the number of steps compared. */
    static int compare(GenerateFixture f, Generator plain, Prompt p, FloatTensor rows, int max, String label) throws Exception {
        assertTrue(f.gen.ioBinding(), "IO binding is the default");
        assertTrue(f.gen.sharedKvBuffer(), "the fused decoder (GroupQueryAttention) shares its KV buffer by default");
        try (Generator growing = f.gen.withSharedKvBuffer(false)) {
            assertTrue(growing.ioBinding() && !growing.sharedKvBuffer());
            compare(f, f.gen, growing, p, rows, max, label + " shared/new-present");
        }
        return compare(f, f.gen, plain, p, rows, max, label);
    }

    static int compare(GenerateFixture f, Generator bound, Generator plain, Prompt p, FloatTensor rows, int max,
                       String label) throws Exception {
        Run on = run(bound, p, rows, f.argmax(max));
        Run off = run(plain, p, rows, f.argmax(max));
        assertArrayEquals(off.g().tokenIds(), on.g().tokenIds(), label);
        assertEquals(off.logits().size(), on.logits().size(), label);
        double worst = 0;
        for (int k = 0; k < on.logits().size(); k++) {
            float[] a = on.logits().get(k), b = off.logits().get(k);
            assertEquals(f.gen.manifest().text().vocabSize(), a.length);
            for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        System.out.printf("[%s] io-binding on/off: %d ids identical, logits max |diff| %.1e over %d steps%n", label,
                on.g().tokenIds().length, worst, on.logits().size());
        assertEquals(0.0, worst, label + ": the two paths run the same kernels on the same inputs");
        return on.logits().size();
    }

    @Test
    void boundAndPlainDecodingAgreeOnIdsAndLogits() throws Exception {
        int steps = 0;
        for (GenerateFixture f : List.of(tiny, odd, mid)) {
            try (Generator plain = f.gen.withIoBinding(false)) {
                String name = f.model.manifest().text().numLayers() + "L/" + f.model.manifest().text().hiddenSize();
                for (String text : List.of("What does the person say?", "hello world")) {
                    steps += compare(f, plain, f.chat(text), f.audio, 16, name + " " + text);
                }
                if (f.adaptedAudio != null) {
                    steps += compare(f, plain, f.chat("Describe the sound."), f.adaptedAudio, 16, name + "+ldv");
                }
            }
        }
        assertTrue(steps >= 80, "too few steps compared: " + steps);
    }

    @Test
    void sixteenConcurrentBoundGenerationsEqualThePlainOnes() throws Exception {
        List<String> texts = List.of("What does the person say?", "hello world", "Describe the sound.", "a b c");
        List<int[]> want = new ArrayList<>();
        try (Generator plain = tiny.gen.withIoBinding(false)) {
            for (int i = 0; i < 16; i++) {
                want.add(plain.generate(tiny.chat(texts.get(i % 4)), i % 2 == 0 ? tiny.audio : tiny.adaptedAudio,
                        tiny.argmax(12 + i % 5)).tokenIds());
            }
        }
        long live = NativeCounts.live();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<int[]>> got = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int k = i;
                got.add(pool.submit(() -> tiny.gen.generate(tiny.chat(texts.get(k % 4)),
                        k % 2 == 0 ? tiny.audio : tiny.adaptedAudio, tiny.argmax(12 + k % 5)).tokenIds()));
            }
            for (int i = 0; i < 16; i++) assertArrayEquals(want.get(i), got.get(i).get(), "request " + i);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(live, NativeCounts.live(), NativeCounts.summary());
    }

    @Test
    void noNativeObjectIsLeftBehindOverAThousandGenerations() throws Exception {
        // a 400-position text prompt, so that each generation's KV cache (2 layers x 2 KV heads x 16 x 404
        // positions x K/V x 4 B = 207 KB) would add up to ~200 MB if it were not released
        int[] ids = new int[400];
        for (int i = 0; i < ids.length; i++) ids[i] = 100 + i % 200;
        Prompt p = new Prompt(ids, new int[0], new int[0]);
        GenerationOptions o = tiny.argmax(4);
        for (int i = 0; i < 200; i++) tiny.gen.generate(p, null, o);                       // warm the JIT, heap and arenas
        long live = NativeCounts.live();
        long bindings = NativeCounts.createdCount(NativeCounts.Kind.IO_BINDING);
        long values = NativeCounts.createdCount(NativeCounts.Kind.VALUE);
        long rss0 = settledRssKb();
        long heap0 = heapCommittedKb();
        int steps = 0;
        for (int i = 0; i < 1000; i++) steps += tiny.gen.generate(p, null, o).tokenIds().length;
        long rss1 = settledRssKb();
        long heap1 = heapCommittedKb();
        long nativeGrowth = (rss1 - rss0) - Math.max(0, heap1 - heap0);
        long madeValues = NativeCounts.createdCount(NativeCounts.Kind.VALUE) - values;
        System.out.printf("1000 bound generations of a 400-position prompt (%d tokens): %d IO bindings and %d OrtValues "
                        + "created and released; RSS %d -> %d kB, Java heap committed %d -> %d kB, so %d kB outside the heap; %s%n",
                steps, NativeCounts.createdCount(NativeCounts.Kind.IO_BINDING) - bindings, madeValues, rss0, rss1,
                heap0, heap1, nativeGrowth, NativeCounts.summary());
        assertEquals(live, NativeCounts.live(), "native objects still alive: " + NativeCounts.summary());
        assertEquals(1000, NativeCounts.createdCount(NativeCounts.Kind.IO_BINDING) - bindings);
        // per generation at least: prefill inputs (3) + logits and 2L cache values returned by each of the 4 runs
        assertTrue(madeValues >= 1000L * (3 + 4 * (1 + 2 * 2)), "the bound path was not taken: " + madeValues + " values");
        // memory outside the Java heap: a cache left behind per generation would add ~200 MB
        assertTrue(nativeGrowth < 48 * 1024, "memory outside the Java heap grew by " + nativeGrowth + " kB over 1000 "
                + "generations (RSS " + rss0 + " -> " + rss1 + " kB, heap committed " + heap0 + " -> " + heap1 + " kB)");
    }

    static long heapCommittedKb() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1024;
    }

    /** RSS after a garbage collection, so that uncollected Java garbage does not look like native growth. */
    static long settledRssKb() throws IOException {
        System.gc();
        return rssKb();
    }

    @Test
    void theSessionHandleIsTheSession() throws Exception {
        Field f = OrtSession.class.getDeclaredField("nativeHandle");
        assertEquals(long.class, f.getType(), "the IO binding reads OrtSession.nativeHandle as a long (SessionHandle)");
        assertTrue(Modifier.isPrivate(f.getModifiers()) || !Modifier.isPublic(f.getModifiers()));
        Manifest m = tiny.model.manifest();
        try (OrtSession decoder = OrtEnvironment.getEnvironment().createSession(
                tiny.art.resolve(m.graph(Manifest.DECODER).file()).toString());
             OrtSession embed = OrtEnvironment.getEnvironment().createSession(
                     tiny.art.resolve(m.graph(Manifest.EMBED_TOKENS).file()).toString())) {
            assertEquals(decoder.getNumInputs(), OrtCApi.get().inputCount(decoder));
            assertEquals(embed.getNumInputs(), OrtCApi.get().inputCount(embed));
            assertTrue(decoder.getNumInputs() != embed.getNumInputs());
        }
    }

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return 0;
    }
}
