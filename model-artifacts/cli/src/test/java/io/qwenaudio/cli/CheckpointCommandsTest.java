package io.qwenaudio.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointCommandsTest {

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = QwenAudio.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void makeTinyThenInspect(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck");
        Run r = run("make-tiny", ck.toString(), "--seed", "4", "--lora", tmp.resolve("lora").toString(),
                "--adapter", tmp.resolve("adapter").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(ck.resolve(Checkpoint.INDEX_FILE)));
        assertTrue(Files.exists(tmp.resolve("lora/adapter_model.safetensors")));
        assertTrue(Files.exists(tmp.resolve("adapter/adapter.safetensors")));

        r = run("inspect", ck.toString());
        assertEquals(0, r.code(), r.err());
        for (int step = 1; step <= 8; step++) assertTrue(r.out().contains("[" + step + "]"), r.out());
        assertTrue(r.out().contains("Qwen2AudioForConditionalGeneration"));
        assertTrue(r.out().contains("NO o_proj"));

        r = run("inspect", ck.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        long sum = 0;
        try (Checkpoint cp = Checkpoint.open(ck)) {
            for (String n : cp.names()) sum += cp.numel(n);
        }
        assertEquals(sum, j.get("total_parameters").asLong());
        assertEquals("audio_tower", j.get("encoding_strategy").get("strategy").asText());
        assertEquals(64, j.get("encoding_strategy").get("width").asInt());
    }

    @Test
    void badInputIsOneLineWithExitCode2(@TempDir Path tmp) throws Exception {
        Run r = run("inspect", tmp.resolve("missing").toString());
        assertBad(r, "inspect");

        Path notQwen = Files.createDirectories(tmp.resolve("llama"));
        Files.writeString(notQwen.resolve("config.json"), "{\"model_type\":\"llama\"}");
        r = run("inspect", notQwen.toString());
        assertBad(r, "model_type is 'llama'");

        Path ck = tmp.resolve("ck");
        assertEquals(0, run("make-tiny", ck.toString()).code());
        Path shard = ck.resolve("model-00001-of-00003.safetensors");
        if (!Files.exists(shard)) {
            try (var s = Files.list(ck)) {
                shard = s.filter(p -> p.getFileName().toString().startsWith("model-00001-")).findFirst().orElseThrow();
            }
        }
        byte[] b = Files.readAllBytes(shard);
        b[0] = (byte) 0xff; // header length now impossible
        b[7] = (byte) 0x7f;
        Files.write(shard, b);
        r = run("inspect", ck.toString());
        assertBad(r, "corrupt safetensors header");

        assertBad(run("make-tiny", ck.toString()), "not empty");
        assertBad(run("make-tiny", tmp.resolve("x").toString(), "--preset", "huge"), "unknown --preset 'huge'");
    }

    static void assertBad(Run r, String expected) {
        assertEquals(QwenAudio.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }
}
