package io.qwenaudio.functions.encode;

import ai.onnxruntime.OrtException;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.serving.StageLoader;
import io.qwenaudio.stages.EncodeStage;
import jakarta.enterprise.context.ApplicationScoped;

/** Loads the audio encoder at start and hands the {@link EncodeStage} to the functions. */
@ApplicationScoped
public class EncodeStageBean extends StageLoader<EncodeStage> {

    @Override
    protected String component() {
        return "audio_encoder";
    }

    @Override
    protected EncodeStage load(ModelArtifacts a) throws OrtException {
        AudioEncoder encoder = a.encoder(setup.batching(), metrics.batchSizes("encode"));
        try {
            if (warmup()) encoder.warmup();
            EncodeStage s = new EncodeStage(encoder, setup.codec(), setup.audioLimits(), setup.memoryBudget(),
                    a.manifest().text().maxPositionEmbeddings());
            metrics.gauge("qwen_audio_queue_depth", "encode", s::queued);
            return s;
        } catch (RuntimeException | OrtException e) {
            encoder.close();
            throw e;
        }
    }

    @Override
    protected String describe(EncodeStage s) {
        return "encoder d=" + s.dModel();
    }
}
