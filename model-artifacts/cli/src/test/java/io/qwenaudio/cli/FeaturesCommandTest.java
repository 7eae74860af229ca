package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeaturesCommandTest {

    @Test
    void writesFeaturesAndMaskForEveryWindow(@TempDir Path tmp) throws Exception {
        Path wav = tmp.resolve("a.wav");
        Files.write(wav, SampleAudio.voicedGlide(44_100, 40.0, 2)); // 40 s -> windows of 30 s and 10 s
        Path out = tmp.resolve("f.npy");
        Path mask = tmp.resolve("m.npy");
        CheckpointCommandsTest.Run r = run("features", wav.toString(), "--out", out.toString(), "--mask-out", mask.toString());
        assertEquals(0, r.code(), r.err());

        Npy.Array f = Npy.read(out);
        assertEquals(Npy.DType.FLOAT32, f.dtype());
        assertArrayEquals(new long[] {2, 128, 3000}, f.shape());
        Npy.Array m = Npy.read(mask);
        assertEquals(Npy.DType.INT32, m.dtype());
        assertArrayEquals(new long[] {2, 3000}, m.shape());
        long[] bits = m.toLongs();
        long ones0 = 0, ones1 = 0;
        for (int t = 0; t < 3000; t++) {
            assertTrue(bits[t] == 0 || bits[t] == 1);
            ones0 += bits[t];
            ones1 += bits[3000 + t];
        }
        assertEquals(3000, ones0);
        assertEquals(1000, ones1); // 10 s * 16000 / 160
        // the mask is a prefix of ones
        for (int t = 0; t < 3000; t++) assertEquals(t < 1000 ? 1 : 0, bits[3000 + t]);
        float[] x = f.toFloats();
        float max = -Float.MAX_VALUE, min = Float.MAX_VALUE;
        for (int i = 0; i < 128 * 3000; i++) {
            max = Math.max(max, x[i]);
            min = Math.min(min, x[i]);
        }
        assertTrue(max - min <= 2.0f + 1e-6f, "clamped at max - 8 in log10, i.e. 2.0 after /4: " + (max - min));
    }

    @Test
    void badInputExitsTwoWithOneLine(@TempDir Path tmp) throws Exception {
        Path empty = Files.write(tmp.resolve("empty.wav"), new byte[0]);
        Path text = Files.writeString(tmp.resolve("notes.wav"), "this is not audio at all, just some text");
        Path out = tmp.resolve("f.npy");
        for (String[] args : new String[][] {
                {"features", empty.toString(), "--out", out.toString()},
                {"features", text.toString(), "--out", out.toString()},
                {"features", tmp.resolve("missing.wav").toString(), "--out", out.toString()},
                {"features", tmp.toString(), "--out", out.toString()},
                {"features", empty.toString()}}) {
            CheckpointCommandsTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            String err = r.err().strip();
            assertFalse(err.isEmpty());
            assertFalse(err.contains("\n"), "one line: " + err);
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
        }
        assertFalse(Files.exists(out), "no output written for bad input");
    }

    @Test
    void tooLongAudioIsRejectedWithTheLimit(@TempDir Path tmp) throws Exception {
        Path wav = tmp.resolve("a.wav");
        Files.write(wav, SampleAudio.voicedGlide(16_000, 12.0, 2));
        CheckpointCommandsTest.Run r = run("features", wav.toString(), "--out", tmp.resolve("f.npy").toString(),
                "--max-duration", "10");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("10"), r.err());
    }
}
