package io.qwenaudio.cli;

import io.qwenaudio.audio.SampleAudio;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.StringJoiner;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every subcommand fed empty, malformed, oversized, wrong-typed and overflowing arguments and files (all made here:
 * empty files, random bytes, truncated WAV headers, huge, negative and non-numeric values, missing and unusable
 * directories). Each case must end with exit code 2 and exactly one line on stderr that names the problem, with no
 * stack trace, within a few seconds. Then the contract cases: usage without a command, no doubled prefix, the
 * verification error naming --no-verify, add-adapter --force, and the logging setup.
 */
class CliBadInputCorpusTest {

    @TempDir
    static Path tmp;
    static Path ck, art, adapter, wav, emptyFile, noise, truncatedWav, hugeWav, zeroRateWav, textFile, emptyDir, fullDir,
            badConfig, hugeConfig, truncatedCk;

    /** One bad input: the arguments and a piece of text the one stderr line must contain (case-insensitive). */
    record Case(String name, String expect, String... args) {
    }

    @BeforeAll
    static void setUp() throws Exception {
        QwenAudio.quietLogs();
        ck = tmp.resolve("ck");
        adapter = tmp.resolve("adapter");
        art = tmp.resolve("art");
        ok("make-tiny", ck.toString(), "--adapter", adapter.toString());
        ok("convert", ck.toString(), "--out", art.toString(), "--adapter", "ldv=" + adapter);
        wav = Files.write(tmp.resolve("a.wav"), SampleAudio.voicedGlide(16_000, 0.5, 2));
        emptyFile = Files.write(tmp.resolve("empty.wav"), new byte[0]);
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        noise = Files.write(tmp.resolve("noise.wav"), random);
        byte[] w = Files.readAllBytes(wav);
        truncatedWav = Files.write(tmp.resolve("truncated.wav"), Arrays.copyOf(w, 20));   // inside the fmt chunk
        byte[] huge = w.clone();                                                            // 65535 channels
        huge[22] = huge[23] = (byte) 0xff;
        hugeWav = Files.write(tmp.resolve("huge-channels.wav"), huge);
        byte[] zero = w.clone();                                                            // sample rate 0
        zero[24] = zero[25] = zero[26] = zero[27] = 0;
        zeroRateWav = Files.write(tmp.resolve("zero-rate.wav"), zero);
        textFile = Files.writeString(tmp.resolve("file.txt"), "not a directory");
        emptyDir = Files.createDirectory(tmp.resolve("empty-dir"));
        fullDir = Files.createDirectory(tmp.resolve("full-dir"));
        Files.writeString(fullDir.resolve("x"), "x");
        badConfig = Files.createDirectory(tmp.resolve("bad-config"));
        Files.writeString(badConfig.resolve("config.json"), "{\"model_type\": ");
        hugeConfig = Files.createDirectory(tmp.resolve("huge-config"));
        Files.writeString(hugeConfig.resolve("config.json"), Files.readString(ck.resolve("config.json"))
                .replaceFirst("\"hidden_size\"\\s*:\\s*\\d+", "\"hidden_size\": 99999999999999999999"));
        truncatedCk = tmp.resolve("truncated-ck");
        Files.createDirectory(truncatedCk);
        try (var files = Files.list(ck)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) Files.copy(f, truncatedCk.resolve(f.getFileName()));
            }
        }
        try (var files = Files.list(truncatedCk)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".safetensors")).toList()) {
                Files.write(f, Arrays.copyOf(Files.readAllBytes(f), 100));
            }
        }
    }

    static void ok(String... args) {
        CheckpointCommandsTest.Run r = CheckpointCommandsTest.run(args);
        assertEquals(0, r.code(), r.err());
    }

    static List<Case> cases() {
        String a = art.toString(), w = wav.toString(), missing = tmp.resolve("missing").toString();
        String underFile = textFile.resolve("x.npy").toString(), missingDir = tmp.resolve("no/such/dir/x.npy").toString();
        String out = tmp.resolve("out.npy").toString();
        List<Case> c = new ArrayList<>();
        // features
        c.add(new Case("features: no arguments", "Missing required", "features"));
        c.add(new Case("features: missing audio", "audio file not found", "features", missing, "--out", out));
        c.add(new Case("features: audio is a directory", "is a directory", "features", emptyDir.toString(), "--out", out));
        c.add(new Case("features: empty file", "empty", "features", emptyFile.toString(), "--out", out));
        c.add(new Case("features: random bytes", "accepted: WAV", "features", noise.toString(), "--out", out));
        c.add(new Case("features: truncated WAV header", "WAV", "features", truncatedWav.toString(), "--out", out));
        c.add(new Case("features: WAV claiming 65535 channels", "65535", "features", hugeWav.toString(), "--out", out));
        c.add(new Case("features: WAV with sample rate 0", "sample rate", "features", zeroRateWav.toString(), "--out", out));
        c.add(new Case("features: negative --max-duration", "--max-duration must be a positive number of seconds, got -5.0",
                "features", w, "--out", out, "--max-duration", "-5"));
        c.add(new Case("features: zero --max-duration", "--max-duration must be", "features", w, "--out", out, "--max-duration", "0"));
        c.add(new Case("features: NaN --max-duration", "got NaN", "features", w, "--out", out, "--max-duration", "NaN"));
        c.add(new Case("features: overflowing --max-duration", "got Infinity", "features", w, "--out", out, "--max-duration", "1e400"));
        c.add(new Case("features: non-numeric --max-duration", "--max-duration", "features", w, "--out", out, "--max-duration", "ten"));
        c.add(new Case("features: audio longer than --max-duration", "0.1", "features", w, "--out", out, "--max-duration", "0.1"));
        c.add(new Case("features: --out in a missing directory", "--out: directory " + tmp.resolve("no/such/dir") + " does not exist",
                "features", w, "--out", missingDir));
        c.add(new Case("features: --out under a file", "is not a directory", "features", w, "--out", underFile));
        c.add(new Case("features: --out is a directory", "--out is a directory", "features", w, "--out", emptyDir.toString()));
        c.add(new Case("features: --mask-out in a missing directory", "--mask-out: directory", "features", w, "--out", out,
                "--mask-out", missingDir));
        c.add(new Case("features: unknown option", "Unknown option", "features", w, "--out", out, "--bogus"));
        // inspect
        c.add(new Case("inspect: missing directory", "checkpoint directory not found", "inspect", missing));
        c.add(new Case("inspect: a file", "not a directory", "inspect", textFile.toString()));
        c.add(new Case("inspect: empty directory", "config.json", "inspect", emptyDir.toString()));
        c.add(new Case("inspect: malformed config.json", "config.json", "inspect", badConfig.toString()));
        c.add(new Case("inspect: overflowing hidden_size", "hidden_size", "inspect", hugeConfig.toString()));
        c.add(new Case("inspect: --depth 0", "--depth must be at least 1", "inspect", ck.toString(), "--depth", "0"));
        c.add(new Case("inspect: --depth overflowing int", "--depth", "inspect", ck.toString(), "--depth", "99999999999"));
        // make-tiny
        c.add(new Case("make-tiny: non-numeric --seed", "is not a long", "make-tiny", tmp.resolve("t1").toString(), "--seed", "x"));
        c.add(new Case("make-tiny: overflowing --seed", "--seed", "make-tiny", tmp.resolve("t2").toString(), "--seed",
                "99999999999999999999999"));
        c.add(new Case("make-tiny: unknown --preset", "unknown --preset 'huge'", "make-tiny", tmp.resolve("t3").toString(),
                "--preset", "huge"));
        c.add(new Case("make-tiny: directory under a file", "is a file, not a directory", "make-tiny", underFile));
        c.add(new Case("make-tiny: non-empty directory", "not empty", "make-tiny", fullDir.toString()));
        c.add(new Case("make-tiny: --adapter is a file", "--adapter is a file", "make-tiny", tmp.resolve("t4").toString(),
                "--adapter", textFile.toString()));
        // convert
        c.add(new Case("convert: missing checkpoint", "checkpoint directory not found", "convert", missing, "--out",
                tmp.resolve("c1").toString()));
        c.add(new Case("convert: no --out", "--out", "convert", ck.toString()));
        c.add(new Case("convert: unknown --dtype", "--dtype 'int3' is not accepted", "convert", ck.toString(), "--out",
                tmp.resolve("c2").toString(), "--dtype", "int3"));
        c.add(new Case("convert: --out under a file", "is a file, not a directory", "convert", ck.toString(), "--out", underFile));
        c.add(new Case("convert: malformed --adapter", "must be NAME=<adapter-dir>", "convert", ck.toString(), "--out",
                tmp.resolve("c3").toString(), "--adapter", "ldv"));
        c.add(new Case("convert: --adapter directory missing", "adapter directory not found", "convert", ck.toString(), "--out",
                tmp.resolve("c4").toString(), "--adapter", "ldv=" + missing));
        c.add(new Case("convert: empty checkpoint", "config.json", "convert", emptyDir.toString(), "--out", tmp.resolve("c5").toString()));
        c.add(new Case("convert: truncated safetensors", "safetensors", "convert", truncatedCk.toString(), "--out",
                tmp.resolve("c6").toString()));
        c.add(new Case("convert: --out not empty", "not empty", "convert", ck.toString(), "--out", fullDir.toString()));
        // add-adapter
        c.add(new Case("add-adapter: missing artifacts", "artifacts directory not found", "add-adapter", missing, "x=" + adapter));
        c.add(new Case("add-adapter: no manifest", "manifest.json", "add-adapter", emptyDir.toString(), "x=" + adapter));
        c.add(new Case("add-adapter: malformed NAME=dir", "must be NAME=<adapter-dir>", "add-adapter", a, "ldv"));
        c.add(new Case("add-adapter: existing adapter without --force", "adapter 'ldv' already exists in " + a
                + "; pass --force to replace it", "add-adapter", a, "ldv=" + adapter));
        c.add(new Case("add-adapter: adapter directory empty", "adapter_config.json", "add-adapter", a, "x=" + emptyDir));
        // encode
        c.add(new Case("encode: empty audio", "empty", "encode", a, emptyFile.toString(), "--out", out));
        c.add(new Case("encode: random bytes", "accepted: WAV", "encode", a, noise.toString(), "--out", out));
        c.add(new Case("encode: truncated WAV header", "WAV", "encode", a, truncatedWav.toString(), "--out", out));
        c.add(new Case("encode: --out in a missing directory", "does not exist", "encode", a, w, "--out", missingDir));
        c.add(new Case("encode: missing artifacts", "artifacts directory not found", "encode", missing, w, "--out", out));
        c.add(new Case("encode: artifacts without manifest", "manifest.json", "encode", emptyDir.toString(), w, "--out", out));
        c.add(new Case("encode: unknown --environment", "nope", "encode", a, w, "--out", out, "--environment", "nope"));
        c.add(new Case("encode: unknown --execution-provider", "tpu", "encode", a, w, "--out", out, "--execution-provider", "tpu"));
        // generate
        c.add(new Case("generate: --max-new-tokens Integer.MAX_VALUE", "--max-new-tokens 2147483647 does not fit in the "
                + "model's context", "generate", a, w, "--max-new-tokens", "2147483647"));
        c.add(new Case("generate: --max-new-tokens overflowing int", "--max-new-tokens", "generate", a, w, "--max-new-tokens",
                "99999999999"));
        c.add(new Case("generate: negative --max-new-tokens", "--max-new-tokens must be >= 1, got -5", "generate", a, w,
                "--max-new-tokens", "-5"));
        c.add(new Case("generate: zero --max-new-tokens", "--max-new-tokens must be >= 1, got 0", "generate", a, w,
                "--max-new-tokens", "0"));
        c.add(new Case("generate: negative --top-k", "--top-k must be >= 0", "generate", a, w, "--top-k", "-1"));
        c.add(new Case("generate: --top-p above 1", "--top-p must be in (0, 1], got 5.0", "generate", a, w, "--top-p", "5"));
        c.add(new Case("generate: NaN --temperature", "--temperature must be >= 0 and finite, got NaN", "generate", a, w,
                "--temperature", "NaN"));
        c.add(new Case("generate: non-numeric --temperature", "--temperature", "generate", a, w, "--temperature", "hot"));
        c.add(new Case("generate: zero --repetition-penalty", "--repetition-penalty must be > 0", "generate", a, w,
                "--repetition-penalty", "0"));
        c.add(new Case("generate: non-numeric --prompt-ids", "--prompt-ids must be comma-separated token ids", "generate", a, w,
                "--prompt-ids", "1,x"));
        c.add(new Case("generate: negative --prompt-ids", "--prompt-ids must be >= 0, got -3", "generate", a, w,
                "--prompt-ids", "-3"));
        c.add(new Case("generate: more --prompt-ids than the context", "--prompt-ids has 5000 ids but the model's context is",
                "generate", a, w, "--prompt-ids", String.join(",", Collections.nCopies(5000, "1"))));
        c.add(new Case("generate: --greedy with --seed", "--greedy cannot be combined", "generate", a, w, "--greedy", "--seed", "1"));
        c.add(new Case("generate: --prompt-ids with --prompt", "do not combine", "generate", a, w, "--prompt-ids", "1",
                "--prompt", "hi"));
        c.add(new Case("generate: empty audio", "empty", "generate", a, emptyFile.toString(), "--max-new-tokens", "2"));
        c.add(new Case("generate: random bytes", "accepted: WAV", "generate", a, noise.toString(), "--max-new-tokens", "2"));
        // demo, help, unknown commands
        c.add(new Case("demo: --dir is a file", textFile.toString(), "demo", "--dir", textFile.toString()));
        c.add(new Case("demo: unknown option", "Unknown option", "demo", "--bogus"));
        c.add(new Case("unknown command", "Unmatched argument at index 0: 'bogus'", "bogus"));
        c.add(new Case("help for an unknown command", "bogus", "help", "bogus"));
        return c;
    }

    /** One in-process run with stdout/stderr of the whole JVM captured too (commands that print there directly). */
    record Run(int code, String out, String err) {
    }

    static synchronized Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        PrintStream sysErr = System.err, sysOut = System.out;
        ByteArrayOutputStream e2 = new ByteArrayOutputStream(), o2 = new ByteArrayOutputStream();
        int code;
        try {
            // the JVM's streams are replaced before the command line is built (picocli looks at them when it is)
            System.setErr(new PrintStream(e2, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(o2, true, StandardCharsets.UTF_8));
            CommandLine cl = QwenAudio.commandLine();
            cl.setOut(new PrintWriter(out));
            cl.setErr(new PrintWriter(err));
            code = cl.execute(args);
        } finally {
            System.setErr(sysErr);
            System.setOut(sysOut);
        }
        return new Run(code, out + o2.toString(StandardCharsets.UTF_8), err + e2.toString(StandardCharsets.UTF_8));
    }

    @TestFactory
    Stream<DynamicTest> everyBadInputExitsTwoWithOneLineNamingIt() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Run r = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> run(c.args()), c.name() + " did not finish in 10 s");
            String[] lines = r.err().strip().split("\\R");
            String shown = abbreviated(c.args()) + " -> exit " + r.code() + ", stderr:\n" + r.err();
            assertEquals(QwenAudio.EXIT_BAD_INPUT, r.code(), shown);
            assertEquals(1, lines.length, shown);
            assertTrue(lines[0].startsWith("qwen-audio"), shown);
            assertFalse(lines[0].contains("qwen-audio qwen-audio"), shown);
            assertFalse(lines[0].contains("Exception") || lines[0].contains("\tat "), shown);
            assertTrue(lines[0].toLowerCase().contains(c.expect().toLowerCase()), "expected '" + c.expect() + "' in: " + shown);
        }));
    }

    @Test
    void theCorpusIsLargeAndCoversEveryCommand() {
        List<Case> c = cases();
        assertTrue(c.size() >= 30, "only " + c.size() + " cases");
        for (String cmd : List.of("features", "inspect", "make-tiny", "convert", "add-adapter", "encode", "generate", "demo")) {
            assertTrue(c.stream().filter(x -> x.args()[0].equals(cmd)).count() >= 2, cmd);
        }
    }

    @Test
    void noCommandPrintsTheUsageAndExitsTwo() {
        Run r = run();
        assertEquals(QwenAudio.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("qwen-audio: a command is required"), r.err());
        assertTrue(r.err().contains("Usage: qwen-audio"), r.err());
        assertTrue(r.err().contains("generate"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void aChangedArtifactNamesNoVerifyAndNoVerifySkipsTheCheck() throws Exception {
        Path copy = tmp.resolve("art-changed");
        try (var files = Files.walk(art)) {
            for (Path f : files.toList()) {
                Path t = copy.resolve(art.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(t);
                else Files.copy(f, t);
            }
        }
        Path data = copy.resolve("projector.onnx.data");
        byte[] b = Files.readAllBytes(data);
        b[b.length / 2] ^= 1;                                   // same size, other sha256
        Files.write(data, b);
        String out = tmp.resolve("enc.npy").toString();
        Run r = run("encode", copy.toString(), wav.toString(), "--out", out, "--projected");
        assertEquals(QwenAudio.EXIT_BAD_INPUT, r.code(), r.err());
        assertEquals(1, r.err().strip().split("\\R").length, r.err());
        assertTrue(r.err().contains("has sha256") && r.err().contains("pass --no-verify"), r.err());
        r = run("encode", copy.toString(), wav.toString(), "--out", out, "--projected", "--no-verify");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void addAdapterReplacesOnlyWithForce() throws Exception {
        Path graph = art.resolve("adapters/ldv");
        assertTrue(Files.isDirectory(graph));
        Run r = run("add-adapter", art.toString(), "ldv=" + adapter);
        assertEquals(QwenAudio.EXIT_BAD_INPUT, r.code());
        r = run("add-adapter", art.toString(), "ldv=" + adapter, "--force");
        assertEquals(0, r.code(), r.err());
        r = run("add-adapter", art.toString(), "second=" + adapter);
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isDirectory(art.resolve("adapters/second")));
        r = run("encode", art.toString(), wav.toString(), "--out", tmp.resolve("second.npy").toString(), "--environment", "second");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void loggingHasAProviderAndTheCudaProbeIsQuiet() {
        // a provider is bound, so SLF4J's "No SLF4J providers were found" warning cannot be printed
        assertNotEquals(NOPLoggerFactory.class, LoggerFactory.getILoggerFactory().getClass());
        assertFalse(Logger.getLogger("ai.djl.util.cuda.CudaUtils").isLoggable(Level.WARNING));
        assertTrue(Logger.getLogger("ai.djl.util.cuda.CudaUtils").isLoggable(Level.SEVERE));
        assertFalse(Logger.getLogger("io.qwenaudio.runtime.ModelArtifacts").isLoggable(Level.INFO));
    }

    static String abbreviated(String... args) {
        StringJoiner j = new StringJoiner(" ", "qwen-audio ", "");
        for (String a : args) j.add(a.length() > 80 ? a.substring(0, 80) + "..." : a);
        return j.toString();
    }
}
