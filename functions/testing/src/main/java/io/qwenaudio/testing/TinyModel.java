package io.qwenaudio.testing;

import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.GraphBuilder;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.reference.Parity;
import io.qwenaudio.reference.ReferenceAdapter;
import io.qwenaudio.reference.ReferenceEncoder;
import io.qwenaudio.reference.ReferenceModel;
import io.qwenaudio.reference.ReferenceProjector;
import io.qwenaudio.testtools.ExternalTool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A tiny Qwen2-Audio checkpoint ({@code make-tiny}, random weights, real key names) with two domain adapters,
 * converted to artifacts once per JVM, plus the naive Java reference forward on the same checkpoint. The
 * adapters are converted as environments {@code ldv} and {@code piezo} (different weights).
 */
public final class TinyModel {

    public static final String LDV = "ldv";
    public static final String PIEZO = "piezo";

    /**
     * Relative error allowed between what the functions serve and the reference: measured <= 2.6e-7 (encode and
     * embed), <= 7.5e-8 (adapt), <= 4.5e-7 (decoder hidden states).
     */
    public static final double REFERENCE_BOUND = 2e-6;

    /** Weight seed: with it, greedy output of short prompts stays inside the tiny tokenizer's vocabulary. */
    public static final long SEED = 11;

    private static TinyModel instance;

    public final Path root;
    public final Path checkpoint;
    public final Path artifacts;
    public final Map<String, Path> adapterDirs;
    public final Qwen2AudioConfig config;

    private TinyModel(Path root) throws IOException {
        this.root = root;
        this.checkpoint = root.resolve("checkpoint");
        this.artifacts = root.resolve("artifacts");
        this.adapterDirs = Map.of(LDV, root.resolve("adapter-ldv"), PIEZO, root.resolve("adapter-piezo"));
        this.config = MakeTiny.write(checkpoint, MakeTiny.Options.tiny(SEED).withAdapter(adapterDirs.get(LDV)));
        MakeTiny.writeDomainAdapter(adapterDirs.get(PIEZO), config.audio().dModel(), 99);
        new Converter(null).convert(new Converter.Options(checkpoint, artifacts, GraphBuilder.WeightType.FLOAT32,
                List.of(), adapterDirs));
    }

    /** The model, built on first use in a temporary directory removed when the JVM exits. */
    public static synchronized TinyModel get() {
        if (instance == null) {
            try {
                Path dir = Files.createTempDirectory("qwen-audio-tiny");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
                instance = new TinyModel(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    public int dModel() {
        return config.audio().dModel();
    }

    public int hiddenSize() {
        return config.text().hiddenSize();
    }

    /** Features of an audio file, as the serving path computes them. */
    public static Features features(byte[] audio) {
        try (AudioStream in = AudioDecoder.open(audio, AudioLimits.DEFAULT)) {
            return FeatureExtractor.extract(in, AudioLimits.DEFAULT);
        }
    }

    /** Reference encoder output of the valid tokens of every window, concatenated: [N, d]. */
    public float[] referenceHidden(byte[] audio) {
        Features f = features(audio);
        int d = dModel();
        try (Checkpoint w = Checkpoint.open(checkpoint)) {
            ReferenceEncoder enc = new ReferenceEncoder(config.audio(), w);
            float[] all = new float[0];
            for (int i = 0; i < f.windows(); i++) {
                int k = AudioEncoder.validTokens(f.melLength(i));
                float[] h = enc.forward(f.window(i), f.melLength(i)); // [750, d]
                int at = all.length;
                all = Arrays.copyOf(all, at + k * d);
                System.arraycopy(h, 0, all, at, k * d);
            }
            return all;
        }
    }

    /** Reference domain adapter of {@code environment} on [n, d]. */
    public ReferenceAdapter.Result referenceAdapted(String environment, float[] x, int n) {
        Path dir = adapterDirs.get(environment);
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir)) {
            return new ReferenceAdapter(DomainAdapterConfig.read(dir), w).forward(x, n);
        }
    }

    /**
     * Asserts that a served tensor equals the reference's within {@link #REFERENCE_BOUND} (relative error,
     * {@link Parity#relError}), and prints the figure.
     */
    public static void assertMatchesReference(String what, float[] expected, float[] actual) {
        double rel = Parity.relError(expected, actual);
        System.out.printf("%s vs reference: rel err %.2e%n", what, rel);
        if (!(rel <= REFERENCE_BOUND)) {
            throw new AssertionError(what + " vs reference: relative error " + rel + " > " + REFERENCE_BOUND);
        }
    }

    /** Reference projector on [n, d]: [n, H]. */
    public float[] referenceProjected(float[] x, int n) {
        try (Checkpoint w = Checkpoint.open(checkpoint)) {
            return new ReferenceProjector(w).forward(x, n);
        }
    }

    /** The reference model (decoder and all) on the checkpoint; the caller closes the returned checkpoint. */
    public ReferenceModel referenceModel(Checkpoint w) {
        return new ReferenceModel(config, w);
    }

    /**
     * Real speech from espeak-ng (16-bit WAV). Without espeak-ng the calling test is skipped, or fails in CI
     * ({@link ExternalTool}).
     */
    public static byte[] speechWav(String text) {
        ExternalTool.ESPEAK_NG.require();
        try {
            Path f = Files.createTempFile("speech", ".wav");
            try {
                Process p = new ProcessBuilder("espeak-ng", "-w", f.toString(), text).redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) throw new IllegalStateException("espeak-ng exited " + p.exitValue() + ": " + log);
                return Files.readAllBytes(f);
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running espeak-ng", e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
