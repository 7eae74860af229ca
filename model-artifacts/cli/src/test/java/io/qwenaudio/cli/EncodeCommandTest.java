package io.qwenaudio.cli;

import io.qwenaudio.reference.Parity;
import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.reference.ReferenceAdapter;
import io.qwenaudio.reference.ReferenceEncoder;
import io.qwenaudio.reference.ReferenceProjector;
import io.qwenaudio.tensor.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qwen-audio encode} on converted tiny artifacts against the naive reference on the checkpoint: a 40 s
 * clip (two windows, the second partial) through the encoder, optionally the domain adapter and the projector.
 */
class EncodeCommandTest {

    @TempDir
    static Path tmp;
    static Path ck, art, wav;
    static Qwen2AudioConfig cfg;
    static float[] expectedHidden; // [N, d] valid tokens of both windows
    static int n;

    @BeforeAll
    static void setUp() throws Exception {
        ck = tmp.resolve("ck");
        art = tmp.resolve("art");
        wav = Files.write(tmp.resolve("a.wav"), SampleAudio.voicedGlide(22_050, 40.0, 2));
        assertEquals(0, run("make-tiny", ck.toString(), "--adapter", tmp.resolve("ldv").toString()).code());
        assertEquals(0, run("convert", ck.toString(), "--out", art.toString(), "--adapter", "ldv=" + tmp.resolve("ldv")).code());
        cfg = Qwen2AudioConfig.read(ck);
        Features f;
        try (AudioStream in = AudioDecoder.open(wav)) {
            f = FeatureExtractor.extract(in, AudioLimits.DEFAULT);
        }
        int d = cfg.audio().dModel();
        try (Checkpoint w = Checkpoint.open(ck)) {
            ReferenceEncoder enc = new ReferenceEncoder(cfg.audio(), w);
            float[] all = new float[0];
            for (int i = 0; i < f.windows(); i++) {
                int k = AudioEncoder.validTokens(f.melLength(i));
                float[] h = enc.forward(f.window(i), f.melLength(i));
                int at = all.length;
                all = Arrays.copyOf(all, at + k * d);
                System.arraycopy(h, 0, all, at, k * d);
                n += k;
            }
            expectedHidden = all;
        }
        assertEquals(750 + 250, n);
    }

    @Test
    void hiddenStatesEqualTheReference() throws Exception {
        Path out = tmp.resolve("h.npy");
        CheckpointCommandsTest.Run r = run("encode", art.toString(), wav.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Npy.Array a = Npy.read(out);
        assertArrayEquals(new long[] {n, cfg.audio().dModel()}, a.shape());
        double e = Parity.relError(expectedHidden, a.toFloats());
        System.out.printf("encode vs reference: rel %.2e%n", e);
        assertTrue(e <= 2e-6, "rel " + e); // measured 2.9e-7
    }

    @Test
    void adapterThenProjectorEqualTheReference() throws Exception {
        Path out = tmp.resolve("p.npy");
        CheckpointCommandsTest.Run r = run("encode", art.toString(), wav.toString(), "--out", out.toString(),
                "--environment", "ldv", "--projected");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("gate mean"), r.err());
        float[] adapted;
        try (DomainAdapterWeights aw = DomainAdapterWeights.open(tmp.resolve("ldv"))) {
            adapted = new ReferenceAdapter(DomainAdapterConfig.read(tmp.resolve("ldv")), aw).forward(expectedHidden, n).out();
        }
        float[] expected;
        try (Checkpoint w = Checkpoint.open(ck)) {
            expected = new ReferenceProjector(w).forward(adapted, n);
        }
        Npy.Array a = Npy.read(out);
        assertArrayEquals(new long[] {n, cfg.text().hiddenSize()}, a.shape());
        double e = Parity.relError(expected, a.toFloats());
        System.out.printf("encode --environment ldv --projected vs reference: rel %.2e%n", e);
        assertTrue(e <= 2e-6, "rel " + e); // measured 4.0e-7
    }

    @Test
    void unknownEnvironmentOrBadArtifactsExitTwo() throws Exception {
        CheckpointCommandsTest.Run r = run("encode", art.toString(), wav.toString(), "--out", tmp.resolve("x.npy").toString(),
                "--environment", "office");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("office") && r.err().contains("ldv"), r.err());
        r = run("encode", ck.toString(), wav.toString(), "--out", tmp.resolve("x.npy").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("qwen-audio convert"), r.err());
        r = run("encode", art.toString(), wav.toString(), "--out", tmp.resolve("x.npy").toString(),
                "--execution-provider", "tpu");
        assertEquals(2, r.code(), r.err());
    }
}
