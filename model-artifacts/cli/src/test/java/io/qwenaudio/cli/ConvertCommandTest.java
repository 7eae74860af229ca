package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import io.qwenaudio.artifacts.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

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

    /**
     * Every dtype and op set converts, records its dtype and ops per graph, and generates through the CLI with no
     * flag (the manifest says what the graphs are); an op the runtime cannot run is refused at load, naming the
     * graph and the op.
     */
    @Test
    void dtypesAndOpSetsAreRecordedAndServedWithoutFlags(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck");
        assertEquals(0, run("make-tiny", ck.toString()).code());
        Path wav = Files.write(tmp.resolve("a.wav"), SampleAudio.voicedGlide(16_000, 1.0, 2));
        String[][] variants = {{"fp32", "fused"}, {"fp32", "standard"}, {"fp16", "fused"}, {"fp16", "standard"},
                {"int8", "fused"}, {"int4", "fused"}};
        Map<String, String> outputs = new HashMap<>();
        for (String[] v : variants) {
            Path out = tmp.resolve("art-" + v[0] + "-" + v[1]);
            CheckpointCommandsTest.Run r = run("convert", ck.toString(), "--out", out.toString(), "--dtype", v[0],
                    "--graph-ops", v[1]);
            assertEquals(0, r.code(), r.err());
            Manifest.GraphSpec dec = Manifest.read(out).graph(Manifest.DECODER);
            assertEquals(v[0], dec.dtype());
            assertEquals(v[1], dec.opSet());
            assertEquals(v[1].equals("standard"), dec.requiredOps().isEmpty(), dec.requiredOps().toString());
            if (v[0].startsWith("int")) assertTrue(dec.requiredOps().contains("com.microsoft:MatMulNBits"));
            String kvType = dec.inputs().stream().filter(i -> i.name().equals("past_key_values.0.key")).findFirst()
                    .orElseThrow().dtype();
            assertEquals(v[0].equals("fp16") && v[1].equals("fused") ? "float16" : "float32", kvType);
            r = run("generate", out.toString(), wav.toString(), "--greedy", "--max-new-tokens", "4");
            assertEquals(0, r.code(), String.join("/", v) + ": " + r.err());
            assertFalse(r.out().isBlank(), r.err());
            outputs.put(v[0] + "-" + v[1], r.out());
        }
        assertEquals(outputs.get("fp32-standard"), outputs.get("fp32-fused"), "fused and standard fp32 generate the same");
        // a manifest naming an op this runtime has no kernel for is refused at load
        Path art = tmp.resolve("art-fp32-fused");
        Path mf = art.resolve(Manifest.FILE);
        Files.writeString(mf, Files.readString(mf).replace("\"com.microsoft:GroupQueryAttention\"",
                "\"com.microsoft:GroupQueryAttention\", \"com.microsoft:PagedAttention\""));
        CheckpointCommandsTest.Run r = run("generate", art.toString(), wav.toString(), "--greedy", "--max-new-tokens", "4");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("decoder.onnx") && r.err().contains("com.microsoft:PagedAttention"), r.err());
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
                {"convert", ck.toString(), "--out", out, "--dtype", "int3"},
                {"convert", ck.toString(), "--out", out, "--graph-ops", "fancy"},
                {"convert", ck.toString(), "--out", out, "--dtype", "int4", "--graph-ops", "standard"},
                {"convert", ck.toString(), "--out", out, "--adapter", "noequals"},
                {"convert", ck.toString(), "--out", out, "--lora", tmp.resolve("nolora").toString()},
                {"add-adapter", tmp.resolve("missing").toString(), "x=" + tmp},
                {"add-adapter", ck.toString(), "x=" + tmp}}) {
            CheckpointCommandsTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
            assertFalse(r.err().strip().contains("\n"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
            if (Arrays.asList(args).contains("int3")) assertTrue(r.err().contains("fp32, fp16, int8, int4, bf16"), r.err());
            if (Arrays.asList(args).contains("fancy")) assertTrue(r.err().contains("standard, fused"), r.err());
        }
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
