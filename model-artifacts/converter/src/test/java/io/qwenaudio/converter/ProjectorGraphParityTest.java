package io.qwenaudio.converter;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.reference.ReferenceProjector;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static io.qwenaudio.converter.AudioParity.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The projector graph in ONNX Runtime against {@link ReferenceProjector}. */
class ProjectorGraphParityTest {

    /** Bounds: measured <= 2.9e-7 with float32 weights, <= 2.2e-4 with float16 weights. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny, FLOAT32, 1.5e-6", "odd, FLOAT32, 1.5e-6", "odd, FLOAT16, 1e-3"})
    void matchesReference(String preset, GraphBuilder.WeightType wt, double bound, @TempDir Path dir) throws Exception {
        Qwen2AudioConfig cfg = AudioParity.tinyConfig(dir.resolve("ckpt"), preset, 31);
        TensorSource w = MakeTiny.weights(cfg, 31);
        int d = cfg.audio().dModel(), hidden = (int) w.shape("multi_modal_projector.linear.weight")[0];
        int n = 25, batch = 2;
        float[] x = AudioParity.gaussian(batch * n * d, 1.0, 32);
        Path onnx = AudioParity.build(dir, "projector", wt, g -> ProjectorGraph.build(g, w));
        float[] out = AudioParity.run(onnx, Map.of("audio_hidden", in(x, batch, n, d))).get("audio_embeds");
        assertEquals(batch * n * hidden, out.length);
        ReferenceProjector ref = new ReferenceProjector(w);
        for (int b = 0; b < batch; b++) {
            float[] expected = ref.forward(Arrays.copyOfRange(x, b * n * d, (b + 1) * n * d), n);
            double err = Parity.relError(expected, 0, out, b * n * hidden, expected.length);
            System.out.printf("projector %s %s: relative error %.3e%n", preset, wt, err);
            assertTrue(err <= bound, "relative error " + err + " > " + bound);
        }
    }
}
