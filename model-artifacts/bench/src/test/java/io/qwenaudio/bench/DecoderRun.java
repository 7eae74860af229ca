package io.qwenaudio.bench;

import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One decoder configuration in its own process: opens an artifacts directory's generator, builds the chat prompt
 * with the given audio rows (the CLI's default question), runs one short warm-up generation (8 tokens) and
 * {@code reps} timed ones
 * (greedy, no stop ids, {@code tokens} new tokens) and prints their medians, the ids and the resident memory as a
 * {@link Bench#RESULT} line.
 *
 * <p>Arguments: {@code ARTIFACTS AUDIO.npy TOKENS REPS THREADS IO_BINDING(on|off) KV_BUFFER(shared|new)}: with
 * {@code new} a GroupQueryAttention decoder gets a new present cache every run instead of one shared full-length
 * buffer ({@link Generator#withSharedKvBuffer}).
 */
public final class DecoderRun {

    private DecoderRun() {
    }

    public static void main(String[] args) throws Exception {
        Path art = Path.of(args[0]);
        float[] rows = Npy.read(Path.of(args[1])).toFloats();
        int tokens = Integer.parseInt(args[2]), reps = Integer.parseInt(args[3]), threads = Integer.parseInt(args[4]);
        boolean io = RuntimeOptions.onOff("io-binding", args[5]);
        double rssStart = Bench.procStatusMiB("VmRSS");
        ModelArtifacts m = ModelArtifacts.open(art, RuntimeOptions.defaults().withVerifyChecksums(false).withWarmup(false)
                .withIntraOpThreads(threads).withIoBinding(io));
        boolean shared = "shared".equals(args[6]);
        try (Generator model = m.generator(); Generator gen = model.withSharedKvBuffer(shared)) {
            double rssLoaded = Bench.procStatusMiB("VmRSS");
            int h = m.manifest().text().hiddenSize(), n = rows.length / h;
            FloatTensor audio = FloatTensor.of(rows, n, h);                                    // [N, H]
            PromptBuilder.Prompt p = new PromptBuilder(gen.tokenizer(), m.manifest().specialTokens().audioTokenId())
                    .build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(GenerateStage.DEFAULT_PROMPT))),
                            new int[] {n});
            GenerationOptions o = gen.defaults().withGreedy().withRepetitionPenalty(1.0).withMaxNewTokens(tokens)
                    .withStopTokenIds(List.of());
            gen.generate(p, audio, o.withMaxNewTokens(Math.min(tokens, 8)));                   // warm-up: prefill + steps
            double[] prefill = new double[reps], decode = new double[reps];
            Generation g = null;
            for (int i = 0; i < reps; i++) {
                g = gen.generate(p, audio, o);
                prefill[i] = g.prefillMillis();
                decode[i] = g.decodeTokensPerSecond();
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("prompt", p.length());
            r.put("audio_start", p.audioStart()[0]);
            r.put("prefill_ms", Bench.median(prefill));
            r.put("decode_tps", Bench.median(decode));
            r.put("ids", g.tokenIds());
            r.put("prompt_ids", p.ids());
            r.put("rss_start_mib", rssStart);
            r.put("rss_loaded_mib", rssLoaded);
            r.put("rss_mib", Bench.procStatusMiB("VmRSS"));
            r.put("hwm_mib", Bench.procStatusMiB("VmHWM"));
            r.put("kv_bytes_per_token", gen.kvBytesPerToken());
            r.put("shared_kv_buffer", gen.sharedKvBuffer());
            Bench.result(r);
        }
    }
}
