package io.qwenaudio.converter;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.reference.ReferenceAdapter;
import io.qwenaudio.reference.ReferenceEncoder;
import io.qwenaudio.reference.ReferenceProjector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.qwenaudio.converter.AudioParity.in;
import static io.qwenaudio.converter.AudioParity.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The artifacts {@code convert} writes, run in ONNX Runtime, against the naive reference on the checkpoint files
 * (BF16 shards read back) with the LoRA applied on the fly and the domain adapter from its own directory: the
 * converter's wiring (key layout, LoRA merge, adapter loading, graph files) is checked, not only the graph builders.
 */
class ConvertedArtifactsParityTest {

    @Test
    void convertedEncoderProjectorAndAdapterEqualTheReference(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck"), lora = tmp.resolve("lora"), adapter = tmp.resolve("ldv"), out = tmp.resolve("art");
        Qwen2AudioConfig cfg = MakeTiny.write(ck, MakeTiny.Options.odd(11).withLora(lora).withAdapter(adapter));
        Manifest m = new Converter(null).convert(new Converter.Options(ck, out, GraphBuilder.WeightType.FLOAT32,
                List.of(lora), Map.of("ldv", adapter)));

        int d = cfg.audio().dModel();
        int mel = 1234;
        float[] features = AudioParity.gaussian(128 * 3000, 0.5, 5);
        for (int c = 0; c < 128; c++) for (int t = mel; t < 3000; t++) features[c * 3000 + t] = -1.5f; // padding as the front-end makes it

        float[] expectedHidden;
        float[] expectedEmbeds;
        try (Checkpoint w = Checkpoint.open(ck)) {
            expectedHidden = new ReferenceEncoder(cfg.audio(), w).withLora(LoraAdapter.read(lora)).forward(features, mel);
            expectedEmbeds = new ReferenceProjector(w).forward(expectedHidden, 750);
        }
        float[] hidden = run(out.resolve(m.graph(Manifest.AUDIO_ENCODER).file()), Map.of(
                "input_features", in(features, 1, 128, 3000), "mel_lengths", in(new long[] {mel}, 1))).get("last_hidden_state");
        double eEnc = Parity.relError(expectedHidden, 0, hidden, 0, expectedHidden.length);
        float[] embeds = run(out.resolve(m.graph(Manifest.PROJECTOR).file()),
                Map.of("audio_hidden", in(hidden, 1, 750, d))).get("audio_embeds");
        double eProj = Parity.relError(expectedEmbeds, 0, embeds, 0, expectedEmbeds.length);

        DomainAdapterConfig acfg = DomainAdapterConfig.read(adapter);
        ReferenceAdapter.Result expectedAdapted;
        try (DomainAdapterWeights aw = DomainAdapterWeights.open(adapter)) {
            expectedAdapted = new ReferenceAdapter(acfg, aw).forward(expectedHidden, 750);
        }
        Map<String, float[]> adapted = run(out.resolve(m.adapters().get("ldv").graph().file()),
                Map.of("hidden_states", in(expectedHidden, 1, 750, d)));
        double eAd = Parity.relError(expectedAdapted.out(), 0, adapted.get("adapted"), 0, expectedAdapted.out().length);
        double eGate = Parity.relError(expectedAdapted.gate(), 0, adapted.get("gate"), 0, expectedAdapted.gate().length);
        System.out.printf("converted artifacts vs reference (fp32, rel): encoder+LoRA %.2e, projector %.2e, adapter %.2e, gate %.2e%n",
                eEnc, eProj, eAd, eGate);
        // measured 3.5e-7 (encoder+LoRA), 3.3e-7 (projector), 7.6e-8 (adapter), 8.0e-8 (gate)
        double bound = 2e-6;
        assertTrue(eEnc <= bound, "encoder " + eEnc);
        assertTrue(eProj <= bound, "projector " + eProj);
        assertTrue(eAd <= bound, "adapter " + eAd);
        assertTrue(eGate <= bound, "gate " + eGate);
    }
}
