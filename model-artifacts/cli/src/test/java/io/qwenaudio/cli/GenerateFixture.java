package io.qwenaudio.cli;

import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.pipeline.AudioEncoder;
import io.qwenaudio.pipeline.DomainAdapter;
import io.qwenaudio.pipeline.ModelArtifacts;
import io.qwenaudio.pipeline.Projector;
import io.qwenaudio.reference.ReferenceModel;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Test support for generation: a make-tiny checkpoint converted with {@code qwen-audio convert}, its generator,
 * the projected audio rows of a short sample (through the same ONNX stages the CLI uses, with and without the
 * domain adapter) and the naive reference model on the checkpoint weights.
 */
final class GenerateFixture implements AutoCloseable {

    final Path ck, art, wav;
    final Qwen2AudioConfig cfg;
    final ModelArtifacts model;
    final Generator gen;
    final FloatTensor audio;        // [N, H] projected
    final FloatTensor adaptedAudio; // [N, H] adapter, then projector (null without adapter)
    final Checkpoint weights;
    final ReferenceModel ref;

    private GenerateFixture(Path ck, Path art, Path wav, Qwen2AudioConfig cfg, ModelArtifacts model, Generator gen,
                            FloatTensor audio, FloatTensor adaptedAudio, Checkpoint weights) {
        this.ck = ck;
        this.art = art;
        this.wav = wav;
        this.cfg = cfg;
        this.model = model;
        this.gen = gen;
        this.audio = audio;
        this.adaptedAudio = adaptedAudio;
        this.weights = weights;
        this.ref = new ReferenceModel(cfg, weights);
    }

    static GenerateFixture make(Path dir, String preset, long seed, boolean adapter, double seconds) throws Exception {
        Files.createDirectories(dir);
        Path ck = dir.resolve("ck-" + preset), art = dir.resolve("art-" + preset), ldv = dir.resolve("ldv-" + preset);
        Path wav = Files.write(dir.resolve("a-" + preset + ".wav"), DemoCommand.sampleWav(16_000, seconds));
        List<String> mk = new ArrayList<>(List.of("make-tiny", ck.toString(), "--preset", preset, "--seed", String.valueOf(seed)));
        List<String> cv = new ArrayList<>(List.of("convert", ck.toString(), "--out", art.toString()));
        if (adapter) {
            mk.addAll(List.of("--adapter", ldv.toString()));
            cv.addAll(List.of("--adapter", "ldv=" + ldv));
        }
        CheckpointCommandsTest.Run r = CheckpointCommandsTest.run(mk.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        r = CheckpointCommandsTest.run(cv.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        ModelArtifacts model = ModelArtifacts.open(art, RuntimeOptions.defaults().withWarmup(false));
        Features f;
        try (AudioStream in = AudioDecoder.open(wav, AudioLimits.DEFAULT)) {
            f = FeatureExtractor.extract(in, AudioLimits.DEFAULT);
        }
        FloatTensor hidden, projected, adapted = null;
        try (AudioEncoder enc = model.encoder(AudioEncoder.Batching.none(), null); Projector p = model.projector()) {
            hidden = enc.encode(f);                                  // [N, d]
            projected = p.project(hidden);                           // [N, H]
            if (adapter) {
                try (DomainAdapter a = model.adapter("ldv")) {
                    adapted = p.project(a.adapt(hidden).adapted());  // [N, H]
                }
            }
        }
        return new GenerateFixture(ck, art, wav, Qwen2AudioConfig.read(ck), model, model.generator(), projected, adapted,
                Checkpoint.open(ck));
    }

    int audioTokens() {
        return (int) audio.dim(0);
    }

    PromptBuilder builder() {
        return new PromptBuilder(gen.tokenizer(), model.manifest().specialTokens().audioTokenId());
    }

    /** The chat prompt the CLI builds: default system message, the clip, then {@code text}. */
    PromptBuilder.Prompt chat(String text) {
        return builder().build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(text))), new int[] {audioTokens()});
    }

    /** Greedy, no repetition penalty, no stop ids: pure argmax decoding for parity with the reference. */
    GenerationOptions argmax(int maxNewTokens) {
        return gen.defaults().withGreedy().withRepetitionPenalty(1.0).withMaxNewTokens(maxNewTokens).withStopTokenIds(List.of());
    }

    /** Reference greedy ids for the prompt with the given audio rows. */
    int[] referenceGreedy(PromptBuilder.Prompt p, FloatTensor rows, int maxNewTokens) {
        return ref.greedy(p.ids(), rows.data(), (int) rows.dim(0), maxNewTokens, new int[0]);
    }

    @Override
    public void close() throws Exception {
        gen.close();
        weights.close();
    }
}
