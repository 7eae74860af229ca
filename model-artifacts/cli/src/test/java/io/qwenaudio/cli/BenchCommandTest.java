package io.qwenaudio.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.generate.GenerateFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.qwenaudio.cli.CheckpointCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qwen-audio bench} on the tiny preset: every figure is present, finite and plausible (not its speed), the
 * table and JSON agree on what was measured, and bad arguments exit 2 with one line.
 */
class BenchCommandTest {

    @TempDir
    static Path tmp;
    static GenerateFixture f;

    @BeforeAll
    static void setUp() throws Exception {
        f = GenerateFixture.make(tmp, "tiny", GenerateFixture.TINY_SEED, true, 2.0);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (f != null) f.close();
    }

    static void assertStats(JsonNode s, String name) {
        assertTrue(s != null && s.isObject(), name + " missing");
        double median = s.get("median").asDouble(), min = s.get("min").asDouble(), max = s.get("max").asDouble();
        assertTrue(Double.isFinite(median) && min > 0 && min <= median && median <= max, name + ": " + s);
    }

    @Test
    void jsonHasEveryFigure() throws Exception {
        CheckpointCommandsTest.Run r = run("bench", f.art.toString(), "--rounds", "2", "--max-new-tokens", "6",
                "--max-batch", "2", "--json");
        assertEquals(0, r.code(), r.err());
        System.out.println("bench --json: " + r.out());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.get("provider").asText().toLowerCase().contains("cpu"), j.toString());
        assertEquals("fp32", j.get("decoder_dtype").asText());
        assertFalse(j.get("decoder_op_set").asText().isEmpty());
        assertTrue(j.get("io_binding").asBoolean());
        assertEquals(2, j.get("rounds").asInt());
        JsonNode clip = j.get("clip");
        assertEquals(30.0, clip.get("seconds").asDouble(), 1e-9);   // the default synthetic clip
        assertEquals(1, clip.get("windows").asInt());
        assertEquals(750, clip.get("audio_tokens").asInt());
        assertTrue(clip.get("prompt_tokens").asInt() > 750, clip.toString());
        assertEquals(6, clip.get("new_tokens").asInt());
        assertStats(j.get("front_end_ms_per_window"), "front_end_ms_per_window");
        assertEquals(List.of("batch_1", "batch_2"), iterable(j.get("encoder_windows_per_second")));
        assertStats(j.get("encoder_windows_per_second").get("batch_1"), "encoder batch 1");
        assertStats(j.get("encoder_windows_per_second").get("batch_2"), "encoder batch 2");
        assertTrue(List.of(1, 2).contains(j.get("encoder_best_batch").asInt()));
        assertStats(j.get("encoder_windows_per_second_best"), "encoder best");
        assertStats(j.get("projector_ms"), "projector_ms");
        assertStats(j.get("ttft_ms"), "ttft_ms");
        assertStats(j.get("decode_tokens_per_second"), "decode_tokens_per_second");
        assertTrue(j.get("peak_rss_bytes").asLong() > 10_000_000L, j.toString());
        assertTrue(j.get("device_memory_bytes").isNull(), "no device memory on the CPU");
    }

    static List<String> iterable(JsonNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void tableWithAGivenClipAndPlainDecoding() {
        CheckpointCommandsTest.Run r = run("bench", f.art.toString(), "--audio", f.wav.toString(), "--rounds", "1",
                "--max-new-tokens", "3", "--max-batch", "1", "--io-binding", "off");
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());
        assertTrue(r.out().contains("io-binding off"), r.out());
        for (String row : List.of("front-end ms / 30 s window", "encoder windows/s, batch 1", "projector ms",
                "time to first token ms", "decode tokens/s (batch 1)", "peak RSS MB", "device memory MB")) {
            assertTrue(r.out().contains(row), row + " missing:\n" + r.out());
        }
        assertTrue(r.err().contains("bench: generate round 1/1"), "progress goes to stderr: " + r.err());
    }

    @Test
    void badArgumentsExit2WithOneLine() throws Exception {
        Path notAudio = Files.writeString(tmp.resolve("notes.txt"), "not audio");
        String art = f.art.toString();
        String[][] cases = {
                {"bench", art, "--rounds", "0"},
                {"bench", art, "--rounds", "1001"},
                {"bench", art, "--rounds", "many"},
                {"bench", art, "--max-new-tokens", "1"},
                {"bench", art, "--max-new-tokens", "2147483647"},
                {"bench", art, "--max-batch", "0"},
                {"bench", art, "--max-batch", "65"},
                {"bench", art, "--execution-provider", "tpu"},
                {"bench", art, "--io-binding", "maybe"},
                {"bench", art, "--audio", tmp.resolve("missing.wav").toString()},
                {"bench", art, "--audio", notAudio.toString()},
                {"bench", tmp.resolve("no-such-artifacts").toString()},
                {"bench"},
        };
        for (String[] c : cases) {
            CheckpointCommandsTest.Run r = run(c);
            String line = r.err().strip();
            assertEquals(2, r.code(), String.join(" ", c) + " -> " + r.err());
            assertFalse(line.isEmpty(), String.join(" ", c));
            if (c.length > 2) assertFalse(line.contains("\n") && !line.startsWith("Usage"), String.join(" ", c) + ":\n" + r.err());
        }
    }

    @Test
    void sevenBWidthsPresetHasTheRealWidths() {
        MakeTiny.Preset p = MakeTiny.preset("7b-widths").withLayers(2, 3);
        assertEquals(1280, p.audioDModel());
        assertEquals(20, p.audioHeads());
        assertEquals(5120, p.audioFfn());
        assertEquals(4096, p.textHidden());
        assertEquals(32, p.textHeads());
        assertEquals(32, p.textKvHeads());
        assertEquals(11008, p.textIntermediate());
        assertEquals(156_032, p.vocabSize());
        assertEquals(8192, p.maxPositionEmbeddings());
        assertEquals(3, p.textLayers());
        assertEquals(2, p.audioLayers());
    }

    @Test
    void makeTinyLayerOverridesReachTheConfig(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("ck");
        CheckpointCommandsTest.Run r = run("make-tiny", ck.toString(), "--preset", "odd", "--text-layers", "1",
                "--audio-layers", "2");
        assertEquals(0, r.code(), r.err());
        Qwen2AudioConfig c = Qwen2AudioConfig.read(ck.resolve("config.json"));
        assertEquals(1, c.text().numHiddenLayers());
        assertEquals(2, c.audio().encoderLayers());
        assertEquals(96, c.text().hiddenSize());
        assertEquals(2, run("make-tiny", dir.resolve("x").toString(), "--text-layers", "0").code());
        assertEquals(2, run("make-tiny", dir.resolve("y").toString(), "--audio-layers", "65").code());
    }
}
