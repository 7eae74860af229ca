package io.qwenaudio.functions.generate;

import ai.onnxruntime.OrtException;
import io.qwenaudio.events.Wire;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.projector.Projector;
import io.qwenaudio.serving.Slots;
import io.qwenaudio.serving.StageLoader;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatTemplate;
import io.quarkus.runtime.configuration.ConfigurationException;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Set;

/**
 * Loads the projector, token embedding, decoder and tokenizer at start and hands the {@link GenerateStage} and
 * its concurrency {@link Slots} to the functions.
 */
@ApplicationScoped
public class GenerateStageBean extends StageLoader<GenerateStage> {

    private volatile Slots slots;

    @Override
    protected String component() {
        return "language_model";
    }

    /** Generation slots: {@code qwen-audio.generate.max-concurrent} running, {@code max-waiting} queued. */
    public Slots slots() {
        get();
        return slots;
    }

    @Override
    protected GenerateStage load(ModelArtifacts a) throws OrtException {
        var g = setup.config().generate();
        if (g.maxConcurrent() < 1) {
            throw new ConfigurationException("qwen-audio.generate.max-concurrent must be >= 1, got " + g.maxConcurrent(),
                    Set.of("qwen-audio.generate.max-concurrent"));
        }
        if (g.maxWaiting() < 0) {
            throw new ConfigurationException("qwen-audio.generate.max-waiting must be >= 0, got " + g.maxWaiting(),
                    Set.of("qwen-audio.generate.max-waiting"));
        }
        int d = a.manifest().audio().dModel();
        ChatTemplate template = a.chatTemplate(); // the checkpoint's own, or ChatML
        Projector projector = a.projector();
        Generator generator;
        try {
            generator = a.generator();
        } catch (RuntimeException | OrtException e) {
            projector.close();
            throw e;
        }
        GenerateStage s = new GenerateStage(projector, generator, setup.codec(), d, template, setup.memoryBudget());
        try {
            if (warmup()) { // projector, prefill and two decode steps on a silent clip
                s.generate(List.of(FloatTensor.of(new float[4 * d], 4, d)), (Wire.GenerateParams) null,
                        generator.defaults().withGreedy().withMaxNewTokens(2), null);
            }
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        slots = new Slots("generate", g.maxConcurrent(), g.maxWaiting());
        metrics.gauge("qwen_audio_queue_depth", "generate", slots::inside);
        return s;
    }

    @Override
    protected String describe(GenerateStage s) {
        return s.generator().manifest().text().numLayers() + "-layer decoder (KV cache " + s.generator().kvBytesPerToken()
                + " bytes/token)";
    }
}
