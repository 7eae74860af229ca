package io.qwenaudio.generate;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.GraphBuilder;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.adapter.DomainAdapter;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.projector.Projector;
import io.qwenaudio.reference.ReferenceModel;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Test support for generation: a make-tiny checkpoint converted to artifacts, its generator,
 * the projected audio rows of a short sample (through the same ONNX stages the CLI uses, with and without the
 * domain adapter) and the naive reference model on the checkpoint weights.
 */
public final class GenerateFixture implements AutoCloseable {

    /** Weight seeds with which greedy output of short prompts stays inside the tiny tokenizer's vocabulary. */
    public static final long TINY_SEED = 11, ODD_SEED = 6;

    public final Path ck, art, wav;
    public final Qwen2AudioConfig cfg;
    public final ModelArtifacts model;
    public final Generator gen;
    public final FloatTensor audio;        // [N, H] projected
    public final FloatTensor adaptedAudio; // [N, H] adapter, then projector (null without adapter)
    public final Checkpoint weights;
    public final ReferenceModel ref;

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

    public static GenerateFixture make(Path dir, String preset, long seed, boolean adapter, double seconds) throws Exception {
        Files.createDirectories(dir);
        Path ck = dir.resolve("ck-" + preset), art = dir.resolve("art-" + preset), ldv = dir.resolve("ldv-" + preset);
        Path wav = Files.write(dir.resolve("a-" + preset + ".wav"), SampleAudio.voicedGlide(16_000, seconds, 2));
        MakeTiny.write(ck, new MakeTiny.Options(MakeTiny.preset(preset), seed, null, adapter ? ldv : null));
        new Converter(null).convert(new Converter.Options(ck, art, GraphBuilder.WeightType.FLOAT32, List.of(),
                adapter ? Map.of(MakeTiny.ADAPTER_ENVIRONMENT, ldv) : Map.of()));
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

    public int audioTokens() {
        return (int) audio.dim(0);
    }

    public PromptBuilder builder() {
        return new PromptBuilder(gen.tokenizer(), model.manifest().specialTokens().audioTokenId());
    }

    /** The chat prompt the CLI builds: default system message, the clip, then {@code text}. */
    public PromptBuilder.Prompt chat(String text) {
        return builder().build(List.of(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(text))), new int[] {audioTokens()});
    }

    /** Greedy, no repetition penalty, no stop ids: pure argmax decoding for parity with the reference. */
    public GenerationOptions argmax(int maxNewTokens) {
        return gen.defaults().withGreedy().withRepetitionPenalty(1.0).withMaxNewTokens(maxNewTokens).withStopTokenIds(List.of());
    }

    /** Reference greedy ids for the prompt with the given audio rows. */
    public int[] referenceGreedy(PromptBuilder.Prompt p, FloatTensor rows, int maxNewTokens) {
        return ref.greedy(p.ids(), rows.data(), (int) rows.dim(0), maxNewTokens, new int[0]);
    }

    @Override
    public void close() throws Exception {
        gen.close();
        weights.close();
    }
}
