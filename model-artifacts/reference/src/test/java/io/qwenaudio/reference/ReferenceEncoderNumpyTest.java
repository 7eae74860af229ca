package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.AudioEncoderConfig;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.testtools.ExternalTool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cross-checks {@link ReferenceEncoder} against an independent numpy implementation (test resource
 * {@code encoder_numpy.py}) on the odd preset with a partially filled window. Needs python3 with numpy
 * ({@link ExternalTool}).
 */
class ReferenceEncoderNumpyTest {

    @Test
    void matchesNumpyForward(@TempDir Path dir) throws Exception {
        ExternalTool.PYTHON_NUMPY.require();
        Qwen2AudioConfig cfg = MakeTiny.write(dir.resolve("ckpt"), MakeTiny.Options.odd(41));
        AudioEncoderConfig a = cfg.audio();
        TensorSource w = MakeTiny.weights(cfg, 41);
        Path data = Files.createDirectories(dir.resolve("data"));
        for (String n : w.names()) if (n.startsWith("audio_tower.")) writeF32(data.resolve(n + ".f32"), w.floats(n));
        int melLength = 1234;
        float[] features = new float[a.numMelBins() * 3000];
        Random r = new Random(42);
        for (int m = 0; m < a.numMelBins(); m++) {
            for (int t = 0; t < melLength; t++) features[m * 3000 + t] = (float) (0.5 * r.nextGaussian());
        }
        writeF32(data.resolve("features.f32"), features);
        Path script = dir.resolve("encoder_numpy.py");
        try (InputStream in = getClass().getResourceAsStream("encoder_numpy.py")) {
            Files.copy(in, script);
        }
        Process p = new ProcessBuilder("python3", script.toString(), data.toString(), "" + a.dModel(), "" + a.encoderLayers(),
                "" + a.encoderAttentionHeads(), "" + a.encoderFfnDim(), "" + a.numMelBins(), "" + melLength)
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "numpy forward timed out");
        assertEquals(0, p.exitValue(), "numpy forward failed: " + log);

        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(data.resolve("out.f32"))).order(ByteOrder.LITTLE_ENDIAN);
        float[] expected = new float[b.remaining() / 4];
        b.asFloatBuffer().get(expected);
        float[] actual = new ReferenceEncoder(a, w).forward(features, melLength);
        assertEquals(expected.length, actual.length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        System.out.printf("reference encoder vs numpy (odd, melLength %d): relative error %.3e%n", melLength, maxDiff / maxRef);
        assertTrue(maxDiff / maxRef <= 1e-6, "relative error " + maxDiff / maxRef); // measured 1.5e-7
    }

    private static void writeF32(Path f, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(f, b.array());
    }
}
