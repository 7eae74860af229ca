package io.qwenaudio.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.reference.ReferenceDecoder;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder.Prompt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Generation speed at batch 1 on the CPU: time to first token (embedding + prefill + first pick) and decode
 * tokens/s of the ONNX Runtime {@link io.qwenaudio.generate.Generator} (KV cache kept in ONNX Runtime memory),
 * against the naive Java reference decoder with its KV cache, on the tiny model and on a random mid-size decoder
 * (preset {@code mid}: hidden 1024, 8 layers, 8 heads x 128, 103 M decoder parameters), plus ONNX Runtime alone over
 * a whole 30 s clip (798 positions), once with the KV cache kept in ONNX Runtime memory (the generator) and once
 * copied through Java arrays every step. Greedy, no stop ids. The reference decodes fewer tokens on the mid model (it is slow); its
 * ids are checked against ONNX Runtime's.
 *
 * <p>Runs only with {@code -Dbench=true}. Knobs: {@code bench.rounds} (ONNX Runtime runs per row, default 3),
 * {@code bench.tokens} (new tokens, default 32).
 */
class GeneratorBenchmarkTest {

    record Row(String model, String engine, int promptTokens, int newTokens, double ttftMs, double decodeTps, long kvBytesPerToken) {
    }

    @Test
    void timeToFirstTokenAndDecodeSpeed(@TempDir Path tmp) throws Exception {
        assumeTrue(Boolean.getBoolean("bench"), "generator benchmark: run with -Dbench=true");
        int rounds = Integer.getInteger("bench.rounds", 3), tokens = Integer.getInteger("bench.tokens", 32);
        List<Row> rows = new ArrayList<>();
        try (GenerateFixture tiny = GenerateFixture.make(tmp, "tiny", GenerateFixture.TINY_SEED, false, 2.0)) {
            bench(rows, "tiny (2L, H 64)", tiny, tiny.chat(GenerateStage.DEFAULT_PROMPT), tiny.audio, rounds, tokens, tokens);
        }
        // seed 1 with a 30 s clip: its greedy continuations stay inside the tokenizer's ids for 32 tokens, both over
        // the whole clip and over its first 2 s of audio rows (random weights often pick an undecodable id early)
        try (GenerateFixture mid = GenerateFixture.make(tmp, "mid", 1, false, 30.0)) {
            int h = (int) mid.audio.dim(1);
            FloatTensor head = FloatTensor.of(Arrays.copyOf(mid.audio.data(), 50 * h), 50, h);   // [50, H]
            bench(rows, "mid (8L, H 1024)", mid, prompt(mid, 50), head, rounds, tokens, 8);
            Prompt whole = prompt(mid, (int) mid.audio.dim(0));
            bench(rows, "mid, 30 s clip", mid, whole, mid.audio, rounds, tokens, 0);
            rows.add(copyingKv(mid, whole, mid.audio, tokens));
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-18s %-22s %7s %5s %12s %12s %12s%n", "model", "engine", "prompt", "new",
                "TTFT ms", "decode tok/s", "KV B/token");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-18s %-22s %7d %5d %12.1f %12.1f %12d%n", r.model(), r.engine(), r.promptTokens(),
                    r.newTokens(), r.ttftMs(), r.decodeTps(), r.kvBytesPerToken());
        }
        System.out.printf(Locale.ROOT, "KV cache per token (float32) = 2 x layers x kvH x headDim x 4 bytes; Qwen2-7B: "
                + "2 x 32 x 32 x 128 x 4 = %d bytes (1 MiB; 0.5 MiB in fp16)%n", 2L * 32 * 32 * 128 * 4);
    }

    /** ONNX Runtime: warm-up, then the median of {@code rounds} runs; reference: one run of {@code refTokens} tokens. */
    static void bench(List<Row> rows, String model, GenerateFixture f, Prompt p, FloatTensor audio, int rounds, int tokens,
                      int refTokens) throws Exception {
        GenerationOptions o = f.argmax(tokens);
        Generation g = f.gen.generate(p, audio, o);                     // warm-up
        double[] ttft = new double[rounds], tps = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            g = f.gen.generate(p, audio, o);
            ttft[i] = g.prefillMillis();
            tps[i] = g.decodeTokensPerSecond();
        }
        rows.add(new Row(model, "ONNX Runtime (CPU)", p.length(), g.tokenIds().length, median(ttft), median(tps),
                f.gen.kvBytesPerToken()));
        if (refTokens == 0) return;
        ReferenceDecoder ref = f.ref.decoder();
        int n = Math.min(refTokens, g.tokenIds().length);
        assertTrue(n >= 2, "too few tokens for a decode figure: " + Arrays.toString(g.tokenIds()));
        float[] x = f.ref.inputsEmbeds(p.ids(), audio.data(), (int) audio.dim(0));
        long t0 = System.nanoTime();
        ReferenceDecoder.KvCache cache = ref.newCache();
        int[] ids = new int[n];
        ids[0] = Sampler.argmax(ref.step(x, p.length(), cache));
        long t1 = System.nanoTime();
        for (int i = 1; i < n; i++) ids[i] = Sampler.argmax(ref.step(ref.embed(new int[] {ids[i - 1]}), 1, cache));
        long t2 = System.nanoTime();
        assertArrayEquals(Arrays.copyOf(g.tokenIds(), n), ids, "reference and ONNX Runtime ids differ");
        rows.add(new Row(model, "naive Java reference", p.length(), n, (t1 - t0) / 1e6, (n - 1) / ((t2 - t1) / 1e9),
                f.gen.kvBytesPerToken()));
    }

    /**
     * The same decode loop with the KV cache copied into Java arrays after every step and back into new tensors
     * for the next (what keeping {@code present.*} in ONNX Runtime memory avoids). Same ids as the generator.
     */
    static Row copyingKv(GenerateFixture f, Prompt p, FloatTensor audio, int tokens) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int layers = f.cfg.text().numHiddenLayers(), kvH = f.cfg.text().numKeyValueHeads(), d = f.cfg.text().headDim();
        int h = f.cfg.text().hiddenSize();
        Set<String> outputs = new HashSet<>(List.of("logits"));
        for (int i = 0; i < layers; i++) outputs.addAll(List.of("present." + i + ".key", "present." + i + ".value"));
        Generation want = f.gen.generate(p, audio, f.argmax(tokens));
        int[] ids = new int[tokens];
        long t0 = 0, t1 = 0, t2 = 0;
        try (OrtSession s = env.createSession(f.art.resolve("decoder.onnx").toString(), new OrtSession.SessionOptions())) {
            for (int round = 0; round < 2; round++) {                                         // warm-up, then timed
                float[][] k = new float[layers][0], v = new float[layers][0];
                t0 = System.nanoTime();
                float[] x = f.ref.inputsEmbeds(p.ids(), audio.data(), (int) audio.dim(0));  // [S, H]
                int past = 0, len = p.length();
                for (int n = 0; n < tokens; n++) {
                    long[] mask = new long[past + len], pos = new long[len];
                    Arrays.fill(mask, 1);
                    for (int i = 0; i < len; i++) pos[i] = past + i;
                    Map<String, OnnxTensor> in = new HashMap<>();
                    try {
                        in.put("inputs_embeds", OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, len, h}));
                        in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {1, past + len}));
                        in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[] {1, len}));
                        for (int i = 0; i < layers; i++) {                                    // Java -> native copy
                            long[] shape = {1, kvH, past, d};
                            in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(env, FloatBuffer.wrap(k[i]), shape));
                            in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(env, FloatBuffer.wrap(v[i]), shape));
                        }
                        try (OrtSession.Result r = s.run(in, outputs)) {
                            ids[n] = Sampler.argmax(floats(r, "logits"));
                            for (int i = 0; i < layers; i++) {                                // native -> Java copy
                                k[i] = floats(r, "present." + i + ".key");
                                v[i] = floats(r, "present." + i + ".value");
                            }
                        }
                    } finally {
                        OnnxValue.close(in);
                    }
                    if (n == 0) t1 = System.nanoTime();
                    past += len;
                    len = 1;
                    x = f.ref.decoder().embed(new int[] {ids[n]});
                }
                t2 = System.nanoTime();
            }
        }
        assertArrayEquals(want.tokenIds(), ids, "copying loop and generator ids differ");
        return new Row("mid, 30 s clip", "ORT, KV copied via Java", p.length(), tokens, (t1 - t0) / 1e6,
                (tokens - 1) / ((t2 - t1) / 1e9), f.gen.kvBytesPerToken());
    }

    static float[] floats(OrtSession.Result r, String name) {
        FloatBuffer fb = ((OnnxTensor) r.get(name).orElseThrow()).getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    static Prompt prompt(GenerateFixture f, int audioTokens) {
        return f.builder().build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(GenerateStage.DEFAULT_PROMPT))),
                new int[] {audioTokens});
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
