package io.qwenaudio.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.generate.InvalidGenerationException;
import io.qwenaudio.pipeline.AudioEncoder;
import io.qwenaudio.pipeline.DomainAdapter;
import io.qwenaudio.pipeline.ModelArtifacts;
import io.qwenaudio.pipeline.Projector;
import io.qwenaudio.runtime.RuntimeOptions;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.PromptBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio generate <artifacts-dir> <audio-file> [--prompt TEXT | --prompt-ids 1,2,3] ...}: the whole
 * pipeline on ONNX Runtime with the classes the functions use (features, audio encoder, optional domain adapter,
 * projector, ChatML prompt, {@link Generator}). Streams the text to stdout as it is generated, or prints
 * {@code {"token_ids":[...],"text":"...","finish_reason":"...","prompt_tokens":N}} with {@code --json}; timings go
 * to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text about an audio file with converted artifacts (streams to stdout).")
final class GenerateCommand implements Callable<Integer> {

    /** The user turn when no --prompt is given. */
    static final String DEFAULT_PROMPT = "What does the person say?";

    @Parameters(index = "0", paramLabel = "<artifacts-dir>", description = "Made by 'qwen-audio convert'.")
    Path artifacts;

    @Parameters(index = "1", paramLabel = "<audio-file>", description = "WAV, FLAC or MP3.")
    Path audio;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The user's text after the audio (default: \"" + DEFAULT_PROMPT + "\").")
    String prompt;

    @Option(names = "--prompt-ids", split = ",", paramLabel = "ID",
            description = "Raw prompt token ids instead of the chat template; the audio placeholder id (<|AUDIO|>) marks where the clip goes.")
    List<String> promptIds;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message (default: the template's \"You are a helpful assistant.\").")
    String system;

    @Option(names = "--environment", paramLabel = "NAME",
            description = "Domain adapter to apply to the audio (as converted with --adapter NAME=...); 'none' for none.")
    String environment;

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

    @Option(names = "--execution-provider", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE}).")
    String executionProvider;

    @Option(names = "--no-verify", description = "Skip the sha256 check of the artifact files.")
    boolean noVerify;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CliFiles.requireDirectory(artifacts, "artifacts directory");
        CliFiles.requireReadable(audio, "audio file");
        if (promptIds != null && (prompt != null || system != null)) {
            throw new UserInputException("--prompt-ids replaces the chat template: do not combine it with --prompt or --system");
        }
        int[] rawIds = promptIds == null ? null : parseIds(promptIds);
        RuntimeOptions opts = RuntimeOptions.defaults().withExecutionProvider(executionProvider)
                .withVerifyChecksums(!noVerify).withWarmup(false);
        try {
            opts.validate();
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        ModelArtifacts model = ModelArtifacts.open(artifacts, opts);
        GenerationOptions o = options(GenerationOptions.defaults(model.manifest()));

        long t0 = System.nanoTime();
        Features f;
        try (AudioStream in = AudioDecoder.open(audio, AudioLimits.DEFAULT)) {
            f = FeatureExtractor.extract(in, AudioLimits.DEFAULT);
        }
        FloatTensor x;
        try (AudioEncoder enc = model.encoder(AudioEncoder.Batching.none(), null)) {
            x = enc.encode(f); // [N, d]
        }
        if (x.dim(0) == 0) {
            throw new UserInputException("audio too short: " + f.durationSeconds() + " s gives no audio token; at least "
                    + "3 mel frames (about 0.02 s) are needed");
        }
        if (environment != null && !environment.equals("none")) {
            try (DomainAdapter a = model.adapter(environment)) {
                x = a.adapt(x).adapted(); // [N, d]
            }
        }
        try (Projector p = model.projector()) {
            x = p.project(x); // [N, H]
        }
        long t1 = System.nanoTime();

        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Generator gen = model.generator()) {
            PromptBuilder.Prompt p;
            try {
                p = prompt(gen, model.manifest(), rawIds, (int) x.dim(0));
            } catch (IllegalArgumentException e) {
                throw new UserInputException(e.getMessage());
            }
            Generation g;
            try {
                g = gen.generate(p, x, o, json ? null : (id, piece) -> {
                    out.print(piece);
                    out.flush();
                    return true;
                });
            } catch (InvalidGenerationException e) {
                throw new UserInputException(e.getMessage());
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
                    audio.getFileName(), f.durationSeconds(), x.dim(0), g.promptTokens(), g.generatedTokens(),
                    g.finishReason().value(), model.provider(), (t1 - t0) / 1e6, g.prefillMillis(), g.decodeTokensPerSecond());
            err.flush();
        }
        return 0;
    }

    /** The generation options: the checkpoint's defaults changed by the flags given. */
    GenerationOptions options(GenerationOptions o) {
        boolean samplingFlags = temperature != null || topK != null || topP != null || seed != null;
        if (greedy && samplingFlags) {
            throw new UserInputException("--greedy cannot be combined with --temperature, --top-k, --top-p or --seed");
        }
        if (maxNewTokens != null) o = o.withMaxNewTokens(maxNewTokens);
        if (greedy) {
            o = o.withGreedy().withRepetitionPenalty(1.0);
        } else if (temperature != null || topK != null || topP != null) {
            o = o.withSampling(temperature != null ? temperature : o.temperature(), topK != null ? topK : o.topK(),
                    topP != null ? topP : o.topP());
        }
        if (repetitionPenalty != null) o = o.withRepetitionPenalty(repetitionPenalty);
        if (seed != null) o = o.withSeed(seed);
        try {
            return o.validate();
        } catch (InvalidGenerationException e) {
            throw new UserInputException(e.getMessage());
        }
    }

    private PromptBuilder.Prompt prompt(Generator gen, Manifest m, int[] rawIds, int audioTokens) {
        PromptBuilder b = new PromptBuilder(gen.tokenizer(), m.specialTokens().audioTokenId());
        if (rawIds != null) return b.expand(rawIds, new int[] {audioTokens});
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) messages.add(ChatMessage.system(system));
        messages.add(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(prompt != null ? prompt : DEFAULT_PROMPT)));
        return b.build(messages, new int[] {audioTokens});
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
