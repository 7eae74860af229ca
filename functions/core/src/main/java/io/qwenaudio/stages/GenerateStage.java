package io.qwenaudio.stages;

import ai.onnxruntime.OrtException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.generate.ContextOverflowException;
import io.qwenaudio.generate.Generation;
import io.qwenaudio.generate.GenerationOptions;
import io.qwenaudio.generate.Generator;
import io.qwenaudio.generate.InvalidGenerationException;
import io.qwenaudio.generate.TokenListener;
import io.qwenaudio.projector.Projector;
import io.qwenaudio.runtime.MemoryBudget;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.ChatMessage;
import io.qwenaudio.text.ChatTemplate;
import io.qwenaudio.text.PromptBuilder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The generate stage: audio hidden states of one or more clips -> projector -> prompt (the checkpoint's chat
 * template, or a raw prompt) with the audio
 * spliced in -> {@link Generator} -> text. Serves the {@code audio.adapted -> text.generated} event, the CLI and
 * the OpenAI-compatible API with the same prompt and option rules. Thread-safe.
 */
public final class GenerateStage implements AutoCloseable {

    /** The user's text when a request gives none. */
    public static final String DEFAULT_PROMPT = "What does the person say?";
    /** A request without options: the model's generation defaults and the default prompt. */
    public static final Wire.GenerateParams NO_OPTIONS = Wire.GenerateParams.builder().build();
    /** The text after the audio when a request gives none and the artifacts take raw prompts (a base checkpoint). */
    public static final String DEFAULT_RAW_TEXT = "Generate the caption in English:";

    private final Projector projector;
    private final Generator generator;
    private final TensorCodec codec;
    private final int dModel;
    private final PromptBuilder prompts;

    private final boolean rawPrompts;
    private final MemoryBudget memory;

    /**
     * @param projector, generator owned: closed with this stage
     * @param template  the checkpoint's chat template ({@code ModelArtifacts.chatTemplate()})
     */
    public GenerateStage(Projector projector, Generator generator, TensorCodec codec, int dModel, ChatTemplate template) {
        this(projector, generator, codec, dModel, template, MemoryBudget.UNBOUNDED);
    }

    /**
     * @param projector, generator owned: closed with this stage
     * @param template  the checkpoint's chat template ({@code ModelArtifacts.chatTemplate()})
     * @param memory    the process's budget of bytes in flight: a generation reserves its audio rows and KV cache
     */
    public GenerateStage(Projector projector, Generator generator, TensorCodec codec, int dModel, ChatTemplate template,
                         MemoryBudget memory) {
        this.memory = memory;
        this.projector = projector;
        this.generator = generator;
        this.codec = codec;
        this.dModel = dModel;
        Manifest m = generator.manifest();
        this.prompts = new PromptBuilder(generator.tokenizer(), m.specialTokens().audioTokenId(), template);
        this.rawPrompts = m.rawPrompts();
    }

    public Generator generator() {
        return generator;
    }

    /**
     * The request's options over the model's generation defaults, validated; {@code max_new_tokens} is bounded by the
     * context here already, before any audio is encoded.
     */
    public GenerationOptions options(Wire.GenerateParams p) {
        GenerationOptions o = options(generator.defaults(), p);
        int context = context();
        if (o.maxNewTokens() >= context) {
            throw new ContextOverflowException("max_new_tokens", "max_new_tokens " + o.maxNewTokens() + " does not fit the "
                    + "model's context of " + context + " positions (max_position_embeddings), which also holds the prompt "
                    + "and the audio; ask for at most " + (context - 1) + " new tokens, fewer with audio", o.maxNewTokens(), context);
        }
        return o;
    }

    /** The language model's context in positions. */
    public int context() {
        return generator.manifest().text().maxPositionEmbeddings();
    }

    /** The request's options over {@code defaults} (the model's generation defaults), validated. */
    public static GenerationOptions options(GenerationOptions defaults, Wire.GenerateParams p) {
        GenerationOptions o = defaults;
        if (p == null) return o.validate();
        if (p.maxNewTokens() != null) o = o.withMaxNewTokens(p.maxNewTokens());
        if (Boolean.TRUE.equals(p.greedy())) {
            o = o.withGreedy();
        } else if (p.temperature() != null || p.topK() != null || p.topP() != null) {
            o = o.withSampling(p.temperature() != null ? p.temperature() : o.temperature(),
                    p.topK() != null ? p.topK() : o.topK(), p.topP() != null ? p.topP() : o.topP());
        } else if (Boolean.FALSE.equals(p.greedy())) {
            o = o.withSampling(o.temperature(), o.topK(), o.topP());
        }
        if (p.repetitionPenalty() != null) o = o.withRepetitionPenalty(p.repetitionPenalty());
        if (p.seed() != null) o = o.withSeed(p.seed());
        if (p.stop() != null) o = o.withStopStrings(p.stop());
        if (Boolean.TRUE.equals(p.ignoreEos())) o = o.withStopTokenIds(List.of()); // as vLLM: run to max_new_tokens
        return o.validate();
    }

    /**
     * The prompt: {@code promptIds} (raw ids, the audio placeholder id marks each clip) when given, else the
     * conversation. Clip k is expanded to {@code audioTokens[k]} positions.
     */
    public PromptBuilder.Prompt prompt(List<ChatMessage> messages, List<Integer> promptIds, int[] audioTokens) {
        try {
            if (promptIds != null && !promptIds.isEmpty()) {
                int context = generator.manifest().text().maxPositionEmbeddings();
                if (promptIds.size() > context) {
                    throw new InvalidGenerationException("prompt_ids", "prompt_ids has " + promptIds.size() + " ids but the model's "
                            + "context is " + context + " positions; send fewer ids");
                }
                int[] ids = promptIds.stream().mapToInt(i -> {
                    if (i == null || i < 0) throw new InvalidGenerationException("prompt_ids", "prompt_ids must be token ids >= 0, got " + i);
                    return i;
                }).toArray();
                return prompts.expand(ids, audioTokens);
            }
            return prompts.build(messages, audioTokens);
        } catch (InvalidGenerationException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new InvalidGenerationException(e.getMessage());
        }
    }

    /**
     * The prompt a request describes: {@code prompt_ids} (raw ids), else {@code raw_prompt} (special tokens parsed),
     * else the text prompt: in the chat template, or after the audio placeholders when the artifacts take raw prompts
     * ({@code convert --prompt-format raw}). The text prompt and the system prompt are plain text.
     */
    public PromptBuilder.Prompt prompt(Wire.GenerateParams p, int[] audioTokens) {
        List<Integer> ids = p == null ? null : p.promptIds();
        boolean hasIds = ids != null && !ids.isEmpty();
        String raw = p == null ? null : p.rawPrompt();
        checkPromptFields(p);
        if (raw != null) {
            if (hasIds) throw new InvalidGenerationException("raw_prompt", "give either raw_prompt or prompt_ids, not both");
            if (p.prompt() != null) throw new InvalidGenerationException("raw_prompt", "give either raw_prompt or prompt, not both: "
                    + "prompt is the user's text inside the chat template, raw_prompt replaces the template");
            if (p.system() != null) throw new InvalidGenerationException("system", "system applies to chat prompts; a raw_prompt "
                    + "has no system turn: write everything the model should see into raw_prompt");
            if (raw.isBlank()) throw new InvalidGenerationException("raw_prompt", "raw_prompt is empty: give e.g. "
                    + "'<|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:' (one <|AUDIO|> per clip)");
            return checked(() -> prompts.raw(raw, audioTokens));
        }
        if (hasIds) return prompt(null, ids, audioTokens);
        if (rawPrompts) {
            if (p != null && p.system() != null) {
                throw new InvalidGenerationException("system", "system is not accepted: these artifacts take raw prompts (converted "
                        + "with --prompt-format raw for a base checkpoint, which has no system turn); send prompt or raw_prompt");
            }
            String text = p != null && p.prompt() != null ? p.prompt() : DEFAULT_RAW_TEXT;
            return checked(() -> prompts.audioThenText(text, audioTokens));
        }
        return prompt(conversation(p), null, audioTokens);
    }

    /**
     * The prompt fields that exclude each other, checked before any work: {@code raw_prompt} replaces the template, so
     * it comes without {@code prompt}, {@code system} and {@code prompt_ids}.
     *
     * @throws InvalidGenerationException naming the field
     */
    public static void checkPromptFields(Wire.GenerateParams p) {
        if (p != null && p.messages() != null) {
            String other = p.prompt() != null ? "prompt" : p.system() != null ? "system" : p.rawPrompt() != null ? "raw_prompt"
                    : p.promptIds() != null && !p.promptIds().isEmpty() ? "prompt_ids" : null;
            if (other != null) {
                throw new InvalidGenerationException("messages", "give either messages or " + other + ", not both: messages is "
                        + "the whole conversation");
            }
            conversation(p); // roles and parts checked before any audio is decoded
            return;
        }
        if (p == null || p.rawPrompt() == null) return;
        if (p.promptIds() != null && !p.promptIds().isEmpty()) {
            throw new InvalidGenerationException("raw_prompt", "give either raw_prompt or prompt_ids, not both");
        }
        if (p.prompt() != null) throw new InvalidGenerationException("raw_prompt", "give either raw_prompt or prompt, not both: "
                + "prompt is the user's text inside the chat template, raw_prompt replaces the template");
        if (p.system() != null) throw new InvalidGenerationException("system", "system applies to chat prompts; a raw_prompt "
                + "has no system turn: write everything the model should see into raw_prompt");
    }

    private static PromptBuilder.Prompt checked(Supplier<PromptBuilder.Prompt> build) {
        try {
            return build.get();
        } catch (InvalidGenerationException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new InvalidGenerationException(e.getMessage());
        }
    }

    /** The conversation a {@link Wire.GenerateParams} describes: optional system turn, one clip, the prompt text. */
    public static List<ChatMessage> conversation(Wire.GenerateParams p) {
        if (p != null && p.messages() != null) return messages(p.messages());
        List<ChatMessage> messages = new ArrayList<>();
        if (p != null && p.system() != null) messages.add(ChatMessage.system(p.system()));
        String text = p != null && p.prompt() != null ? p.prompt() : DEFAULT_PROMPT;
        messages.add(ChatMessage.user(ChatMessage.audio(), ChatMessage.text(text)));
        return messages;
    }

    /** The conversation of {@link Wire.GenerateParams#messages()}, checked: roles, part types, text present. */
    static List<ChatMessage> messages(List<Wire.Message> in) {
        if (in.isEmpty()) throw new InvalidGenerationException("messages", "messages is empty: give at least one turn");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            Wire.Message m = in.get(i);
            String at = "messages[" + i + "]";
            if (m == null || m.role() == null || !ChatMessage.ROLES.contains(m.role())) {
                throw new InvalidGenerationException("messages", at + ".role must be one of " + ChatMessage.ROLES + ", got "
                        + (m == null ? "null" : m.role()));
            }
            if (m.content() == null) throw new InvalidGenerationException("messages", at + ".content is missing");
            List<ChatMessage.Part> parts = new ArrayList<>();
            for (int k = 0; k < m.content().size(); k++) {
                Wire.Part part = m.content().get(k);
                String type = part == null ? null : part.type();
                if ("text".equals(type) && part.text() != null) {
                    parts.add(ChatMessage.text(part.text()));
                } else if ("audio".equals(type)) {
                    parts.add(ChatMessage.audio());
                } else {
                    throw new InvalidGenerationException("messages", at + ".content[" + k + "] must be {\"type\": \"text\", "
                            + "\"text\": ...} or {\"type\": \"audio\"}");
                }
            }
            out.add(new ChatMessage(m.role(), parts));
        }
        return out;
    }

    /** {@code audio.adapted -> text.generated}. */
    public Wire.TextGenerated generate(Wire.EncodedAudio in, TokenListener listener) {
        if (in == null || in.hidden() == null) {
            throw StageException.badRequest("'hidden' is missing: send the adapt stage's output "
                    + "{\"hidden\": {\"dtype\": \"float32\", \"shape\": [N, " + dModel + "], \"npy\": \"<base64>\"}, \"generate\": {...}}");
        }
        Wire.GenerateParams p = in.generate();
        GenerationOptions o = options(p);
        FloatTensor x = FiniteValues.require("hidden", codec.decode(in.hidden(), "hidden", -1, dModel)); // [N, d]
        Result r = generate(List.of(x), p, o, listener);
        Generation g = r.generation();
        Wire.Timings t = (in.timings() == null ? Wire.Timings.none() : in.timings())
                .withGenerate(r.projectMs(), round2(g.prefillMillis()), round2(g.totalMillis()));
        return new Wire.TextGenerated(in.requestId(), in.environment(), g.text(),
                Arrays.stream(g.tokenIds()).boxed().toList(), g.finishReason().value(),
                new Wire.Usage(g.promptTokens(), g.generatedTokens(), g.promptTokens() + g.generatedTokens()),
                in.adapter(), t);
    }

    /** A generation and the time the projector took. */
    public record Result(Generation generation, double projectMs) {
    }

    /**
     * Projects every clip's hidden states {@code [N_k, d]}, builds the prompt and generates.
     *
     * @param promptIds raw prompt ids replacing the template (null: use {@code messages})
     */
    public Result generate(List<FloatTensor> clips, List<ChatMessage> messages, List<Integer> promptIds,
                           GenerationOptions o, TokenListener listener) {
        try (MemoryBudget.Reservation r = reserve(clips, o.maxNewTokens())) {
            Projected a = project(clips);
            PromptBuilder.Prompt prompt = prompt(messages, promptIds, a.tokens());
            return new Result(generator.generate(prompt, a.rows(), o, listener), a.ms());
        } catch (OrtException e) {
            throw new IllegalStateException("generation failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** Projects every clip, builds the prompt a request describes ({@link #prompt(Wire.GenerateParams, int[])}), generates. */
    public Result generate(List<FloatTensor> clips, Wire.GenerateParams p, GenerationOptions o, TokenListener listener) {
        try (MemoryBudget.Reservation r = reserve(clips, o.maxNewTokens())) {
            Projected a = project(clips);
            PromptBuilder.Prompt prompt = prompt(p, a.tokens());
            return new Result(generator.generate(prompt, a.rows(), o, listener), a.ms());
        } catch (OrtException e) {
            throw new IllegalStateException("generation failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** No-decode mode for a request's prompt ({@link #prompt(Wire.GenerateParams, int[])}): L+1 hidden states {@code [S, H]}. */
    public List<FloatTensor> hiddenStates(List<FloatTensor> clips, Wire.GenerateParams p) {
        try {
            Projected a = project(clips);
            return generator.hiddenStates(prompt(p, a.tokens()), a.rows());
        } catch (OrtException e) {
            throw new IllegalStateException("forward pass failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** No-decode mode: all L+1 hidden states {@code [S, H]} of the prompt with the clips spliced in. */
    public List<FloatTensor> hiddenStates(List<FloatTensor> clips, List<ChatMessage> messages, List<Integer> promptIds) {
        try {
            Projected a = project(clips);
            return generator.hiddenStates(prompt(messages, promptIds, a.tokens()), a.rows());
        } catch (OrtException e) {
            throw new IllegalStateException("forward pass failed in ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /**
     * Reserves what a generation holds beside the model: the clips' rows before and after the projector, and the KV
     * cache of the audio, a prompt allowance and the new tokens.
     */
    private MemoryBudget.Reservation reserve(List<FloatTensor> clips, int maxNewTokens) {
        long rows = 0;
        for (FloatTensor x : clips) rows += x.dim(0);
        int h = generator.manifest().text().hiddenSize();
        long positions = Math.min(context(), rows + EncodeStage.PROMPT_ALLOWANCE + (long) maxNewTokens);
        long bytes = rows * (dModel + 2L * h) * Float.BYTES + positions * generator.kvBytesPerToken();
        return memory.reserve(bytes, "a generation of " + rows + " audio positions + " + maxNewTokens + " new tokens");
    }

    /** Audio rows of all clips, projected and concatenated: {@code [N_total, H]} (null without clips). */
    private record Projected(int[] tokens, FloatTensor rows, double ms) {
    }

    private Projected project(List<FloatTensor> clips) throws OrtException {
        long t0 = System.nanoTime();
        int context = generator.manifest().text().maxPositionEmbeddings();
        long positions = 0;                       // all clips' audio positions, checked before any projector run
        for (int k = 0; k < clips.size(); k++) {
            FloatTensor x = clips.get(k);
            String what = clips.size() == 1 ? "hidden" : "audio clip " + (k + 1);
            TensorCodec.checkShape(what, x.shape(), -1, dModel);
            FiniteValues.require(what, x);
            positions += x.dim(0);
            if (positions > context) {
                throw new ContextOverflowException("the audio takes " + positions + " positions"
                        + (clips.size() > 1 ? " (clips 1.." + (k + 1) + " of " + clips.size() + ")" : ""), positions, context);
            }
        }
        int[] tokens = new int[clips.size()];
        List<float[]> projected = new ArrayList<>(clips.size());
        int total = 0, h = generator.manifest().text().hiddenSize();
        for (int k = 0; k < clips.size(); k++) {
            FloatTensor x = clips.get(k);
            tokens[k] = (int) x.dim(0);
            projected.add(projector.project(x).data()); // [N_k, H]
            total += tokens[k];
        }
        float[] rows = new float[total * h]; // [N_total, H]
        int at = 0;
        for (float[] y : projected) {
            System.arraycopy(y, 0, rows, at, y.length);
            at += y.length;
        }
        double ms = Math.round((System.nanoTime() - t0) / 1e4) / 100.0;
        return new Projected(tokens, total == 0 ? null : FloatTensor.of(rows, total, h), ms);
    }

    private static double round2(double ms) {
        return Math.round(ms * 100) / 100.0;
    }

    @Override
    public void close() throws OrtException {
        projector.close();
        generator.close();
    }
}
