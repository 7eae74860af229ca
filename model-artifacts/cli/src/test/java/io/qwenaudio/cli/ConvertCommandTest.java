package io.qwenaudio.cli;

import io.qwenaudio.artifacts.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertCommandTest {

    @Test
    void makeTinyConvertAddAdapter(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck");
        assertEquals(0, run("make-tiny", ck.toString(), "--lora", tmp.resolve("lora").toString(),
                "--adapter", tmp.resolve("ldv").toString()).code());
        Path out = tmp.resolve("art");
        CheckpointCommandsTest.Run r = run("convert", ck.toString(), "--out", out.toString(),
                "--lora", tmp.resolve("lora").toString(), "--adapter", "ldv=" + tmp.resolve("ldv"));
        assertEquals(0, r.code(), r.err());
        Manifest m = Manifest.read(out);
        m.verify(out);
        assertTrue(m.adapters().containsKey("ldv"));

        r = run("add-adapter", out.toString(), "second=" + tmp.resolve("ldv"));
        assertEquals(0, r.code(), r.err());
        assertTrue(Manifest.read(out).adapters().containsKey("second"));

        Path out16 = tmp.resolve("art16");
        r = run("convert", ck.toString(), "--out", out16.toString(), "--dtype", "fp16");
        assertEquals(0, r.code(), r.err());
        assertEquals("fp16", Manifest.read(out16).dtype());
        assertTrue(Files.size(out16.resolve("decoder.onnx.data")) < Files.size(out.resolve("decoder.onnx.data")));
    }

    @Test
    void badInputExitsTwo(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck");
        run("make-tiny", ck.toString());
        Files.writeString(tmp.resolve("llama.json"), "{}");
        Path notQwen = Files.createDirectories(tmp.resolve("llama"));
        Files.writeString(notQwen.resolve("config.json"), "{\"model_type\": \"llama\"}");
        String out = tmp.resolve("o").toString();
        for (String[] args : new String[][] {
                {"convert", tmp.resolve("missing").toString(), "--out", out},
                {"convert", notQwen.toString(), "--out", out},
                {"convert", ck.toString(), "--out", out, "--dtype", "int4"},
                {"convert", ck.toString(), "--out", out, "--adapter", "noequals"},
                {"convert", ck.toString(), "--out", out, "--lora", tmp.resolve("nolora").toString()},
                {"add-adapter", tmp.resolve("missing").toString(), "x=" + tmp},
                {"add-adapter", ck.toString(), "x=" + tmp}}) {
            CheckpointCommandsTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            assertFalse(r.err().strip().contains("\n"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
