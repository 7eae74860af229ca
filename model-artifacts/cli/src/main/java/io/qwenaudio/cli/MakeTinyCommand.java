package io.qwenaudio.cli;

import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio make-tiny <dir>}: writes a small deterministic Qwen2-Audio checkpoint in the Hugging Face
 * layout (config, BF16 sharded safetensors, generation config, tokenizer), optionally with a PEFT LoRA and a
 * domain adapter directory, for tests and demos without the 16.8 GB model.
 */
@Command(name = "make-tiny", mixinStandardHelpOptions = true,
        description = "Write a small random Qwen2-Audio checkpoint in the exact Hugging Face layout.")
final class MakeTinyCommand implements Callable<Integer> {

    /** Most layers a generated checkpoint may have on either side (the real model has 32). */
    static final int MAX_LAYERS = 64;

    @Parameters(index = "0", paramLabel = "<dir>", description = "Output directory (created; must be empty if it exists).")
    Path dir;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "<n>", description = "Weight seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "<name>",
            description = "Model sizes: tiny, odd, audio-full (real audio encoder), mid (103 M-parameter decoder) or "
                    + "7b-widths (the real 7B widths and vocabulary, 2 layers a side) (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--text-layers", paramLabel = "<n>", description = "Decoder layers instead of the preset's.")
    Integer textLayers;

    @Option(names = "--audio-layers", paramLabel = "<n>", description = "Audio encoder layers instead of the preset's.")
    Integer audioLayers;

    @Option(names = "--lora", paramLabel = "<dir>", description = "Also write a PEFT LoRA adapter (audio tower q/k/v) here.")
    Path lora;

    @Option(names = "--adapter", paramLabel = "<dir>", description = "Also write a domain adapter (environment ldv) here.")
    Path adapter;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!MakeTiny.PRESETS.containsKey(preset)) {
            throw new UserInputException("unknown --preset '" + preset + "', expected one of " + MakeTiny.PRESETS.keySet());
        }
        CliFiles.requireCreatableDirectory(dir, "<dir>");
        if (lora != null) CliFiles.requireCreatableDirectory(lora, "--lora");
        if (adapter != null) CliFiles.requireCreatableDirectory(adapter, "--adapter");
        for (Path p : new Path[]{dir, lora, adapter}) requireEmpty(p);
        MakeTiny.Preset p = MakeTiny.preset(preset);
        for (var layers : new Object[][] {{"--text-layers", textLayers}, {"--audio-layers", audioLayers}}) {
            Integer n = (Integer) layers[1];
            if (n != null && (n < 1 || n > MAX_LAYERS)) {
                throw new UserInputException(layers[0] + " " + n + " is out of range; give 1 to " + MAX_LAYERS);
            }
        }
        p = p.withLayers(audioLayers == null ? p.audioLayers() : audioLayers, textLayers == null ? p.textLayers() : textLayers);
        Qwen2AudioConfig c = MakeTiny.write(dir, new MakeTiny.Options(p, seed, lora, adapter));
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: preset %s, seed %d; audio d_model %d x %d layers, text hidden %d x %d layers, vocab %d, "
                        + "audio_token_index %d%n", dir, preset, seed, c.audio().dModel(), c.audio().encoderLayers(),
                c.text().hiddenSize(), c.text().numHiddenLayers(), c.text().vocabSize(), c.audioTokenIndex());
        if (lora != null) out.println("wrote LoRA adapter: " + lora);
        if (adapter != null) out.println("wrote domain adapter: " + adapter);
        out.flush();
        return 0;
    }

    private static void requireEmpty(Path p) throws IOException {
        if (p == null || !Files.exists(p)) return;
        if (!Files.isDirectory(p)) throw new UserInputException("output path exists and is not a directory: " + p);
        try (var s = Files.list(p)) {
            if (s.findAny().isPresent()) throw new UserInputException("output directory is not empty: " + p);
        }
    }
}
