package io.qwenaudio.chain;

import ai.onnxruntime.OrtException;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.adapter.DomainAdapter;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.stages.AdaptStage;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.stages.GenerateStage;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The three stages as plain Java objects in this JVM, on the same artifacts and with the same payload codec as
 * the stage apps (float32 inline): what the chain of processes must reproduce.
 */
final class InProcessChain implements AutoCloseable {

    /** A request through encode, adapt and generate, with the wall time it took. */
    record Run(Wire.EncodedAudio encoded, Wire.EncodedAudio adapted, Wire.TextGenerated text, double millis) {
    }

    private final AudioEncoder encoder;
    private final EncodeStage encode;
    private final AdaptStage adapt;
    private final GenerateStage generate;

    /** @param environments recording environment -> adapter directory inside the artifacts */
    InProcessChain(Path artifacts, Map<String, String> environments) throws OrtException {
        ModelArtifacts a = ModelArtifacts.open(artifacts, RuntimeOptions.defaults());
        int d = a.manifest().audio().dModel();
        TensorCodec codec = new TensorCodec(null, 100L << 20, false);
        encoder = a.encoder(AudioEncoder.Batching.none(), n -> {
        });
        encode = new EncodeStage(encoder, codec, AudioLimits.DEFAULT);
        Map<String, DomainAdapter> adapters = new TreeMap<>();
        for (Map.Entry<String, String> e : environments.entrySet()) adapters.put(e.getKey(), a.adapterAt(e.getValue()));
        adapt = new AdaptStage(adapters, codec, d);
        generate = new GenerateStage(a.projector(), a.generator(), codec, d, a.chatTemplate());
    }

    Run run(Wire.EncodeRequest request, String requestId) {
        long t0 = System.nanoTime();
        Wire.EncodedAudio encoded = encode.encode(request, requestId);
        Wire.EncodedAudio adapted = adapt.adapt(encoded);
        Wire.TextGenerated text = generate.generate(adapted, null);
        return new Run(encoded, adapted, text, (System.nanoTime() - t0) / 1e6);
    }

    Wire.EmbedResponse embed(Wire.EmbedRequest request, String requestId) {
        return encode.embed(request, requestId);
    }

    @Override
    public void close() throws OrtException {
        generate.close();
        adapt.close();
        encoder.close();
    }
}
