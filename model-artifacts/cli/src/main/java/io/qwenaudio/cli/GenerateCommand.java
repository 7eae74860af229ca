package io.qwenaudio.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.events.Wire;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.generate.InvalidGenerationException;
import io.qwenaudio.runtime.ModelArtifacts;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio generate <artifacts-dir> <audio-file> [--prompt TEXT | --raw-prompt TEXT | --prompt-ids 1,2,3] ...}: the whole
 * pipeline on ONNX Runtime with the classes the functions use (features, audio encoder, optional domain adapter,
 * projector, the checkpoint's chat template or a raw prompt, {@link io.qwenaudio.generate.Generator}). Streams the text to stdout as it is generated, or prints
 * {@code {"token_ids":[...],"text":"...","finish_reason":"...","prompt_tokens":N}} with {@code --json}; timings go
 * to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text about an audio file with converted artifacts (streams to stdout).")
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    AudioModelOptions input;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The user's text after the audio (default: \"" + GenerateStage.DEFAULT_PROMPT + "\").")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", paramLabel = "ID",
            description = "Raw prompt token ids instead of the chat template; the audio placeholder id (<|AUDIO|>) marks where the clip goes.")
    List<String> promptIds;

    @Option(names = "--raw-prompt", paramLabel = "TEXT",
            description = "A raw prompt instead of the chat template, as base checkpoints are prompted, e.g. "
                    + "'<|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:'. Special tokens written here (and only here) "
                    + "are parsed; one <|AUDIO|> per clip.")
    String rawPrompt;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message (default: the template's \"You are a helpful assistant.\").")
    String system;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "At most N new tokens (default: generation_config or "
            + GenerationOptions.DEFAULT_MAX_NEW_TOKENS + ").")
    Integer maxNewTokens;

    @Option(names = "--greedy", description = "Argmax decoding, deterministic (repetition penalty 1 unless --repetition-penalty is given).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (>= 0; 0 = greedy).")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample from the K most likely tokens (0 = no limit).")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling mass, in (0, 1].")
    Double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Penalty for tokens already seen (> 0; 1 = none).")
    Double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Seed for sampling: the same seed gives the same output.")
    Long seed;

    @Option(names = "--json", description = "Print {\"token_ids\":[...],\"text\":\"...\",...} instead of streaming text.")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (promptIds != null && (prompt != null || system != null || rawPrompt != null)) {
            throw new UserInputException("--prompt-ids replaces the chat template: do not combine it with --prompt, "
                    + "--raw-prompt or --system");
        }
        if (rawPrompt != null && (prompt != null || system != null)) {
            throw new UserInputException("--raw-prompt replaces the chat template: do not combine it with --prompt or --system");
        }
        ModelArtifacts model = input.open();
        int d = model.manifest().audio().dModel();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // the flags are checked before any graph is verified and loaded
        Wire.GenerateParams p = params();
        GenerationOptions o;
        try {
            o = GenerateStage.options(GenerationOptions.defaults(model.manifest()), p);
        } catch (InvalidGenerationException ex) {
            throw new UserInputException(flagNames(ex.getMessage()));
        }
        int context = model.manifest().text().maxPositionEmbeddings();
        if (o.maxNewTokens() >= context) {   // the exact fit (prompt + audio + new tokens) is checked after encoding
            throw new UserInputException("--max-new-tokens " + o.maxNewTokens() + " does not fit in the model's context of "
                    + context + " positions, which also holds the prompt and the audio; give at most " + (context - 1));
        }
        // the stage classes the functions run: encode, adapt, generate
        var template = model.chatTemplate();
        try (GenerateStage generate = new GenerateStage(model.projector(), model.generator(), null, d, template)) {
            long t0 = System.nanoTime();
            AudioModelOptions.Audio a = input.encode(model);
            EncodeStage.Encoded e = a.encoded();
            FloatTensor x = a.hidden(); // [N, d]
            long t1 = System.nanoTime();
            Generation g;
            try {
                g = generate.generate(List.of(x), p, o, json ? null : (id, piece) -> {
                    out.print(piece);
                    out.flush();
                    return true;
                }).generation();
            } catch (InvalidGenerationException ex) {
                throw new UserInputException(flagNames(ex.getMessage()));
            }
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode node = m.createObjectNode();
                var ids = node.putArray("token_ids");
                for (int id : g.tokenIds()) ids.add(id);
                node.put("text", g.text());
                node.put("finish_reason", g.finishReason().value());
                node.put("prompt_tokens", g.promptTokens());
                out.println(m.writeValueAsString(node));
            } else {
                out.println();
            }
            out.flush();
            err.printf(Locale.ROOT, "%s: %.2f s of audio, %d audio tokens, prompt %d tokens, %d new tokens (%s) on %s; "
                            + "audio %.0f ms, first token %.0f ms, decode %.1f tokens/s%n",
                    input.audio.getFileName(), e.features().durationSeconds(), x.dim(0), g.promptTokens(), g.generatedTokens(),
                    g.finishReason().value(), model.provider(), (t1 - t0) / 1e6, g.prefillMillis(), g.decodeTokensPerSecond());
            err.flush();
        }
        return 0;
    }

    /**
     * The flags as the generate stage's request options (the same mapping the functions and the OpenAI API use).
     * {@code --greedy} also sets the repetition penalty to 1 unless {@code --repetition-penalty} is given.
     */
    Wire.GenerateParams params() {
        boolean samplingFlags = temperature != null || topK != null || topP != null || seed != null;
        if (greedy && samplingFlags) {
            throw new UserInputException("--greedy cannot be combined with --temperature, --top-k, --top-p or --seed");
        }
        List<Integer> ids = promptIds == null ? null : Arrays.stream(parseIds(promptIds)).boxed().toList();
        Double penalty = repetitionPenalty != null ? repetitionPenalty : greedy ? Double.valueOf(1.0) : null;
        return new Wire.GenerateParams(prompt, system, ids, maxNewTokens, greedy ? Boolean.TRUE : null, temperature, topK,
                topP, penalty, seed, null, rawPrompt);
    }

    /** Generation option names in a message as this command's flags, e.g. "top_p" -> "--top-p". */
    static String flagNames(String message) {
        String m = message == null ? "" : message;
        for (String f : List.of("max_new_tokens", "temperature", "top_k", "top_p", "repetition_penalty", "prompt_ids")) {
            m = m.replaceAll("(?<![\\w-])" + f + "(?!\\w)", "--" + f.replace('_', '-'));
        }
        return m;
    }

    private static int[] parseIds(List<String> items) {
        int[] ids = new int[items.size()];
        for (int i = 0; i < ids.length; i++) {
            String s = items.get(i).trim();
            try {
                ids[i] = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new UserInputException("--prompt-ids must be comma-separated token ids (integers >= 0), got '" + s + "'");
            }
            if (ids[i] < 0) throw new UserInputException("--prompt-ids must be >= 0, got " + ids[i]);
        }
        if (ids.length == 0) throw new UserInputException("--prompt-ids is empty");
        return ids;
    }
}
