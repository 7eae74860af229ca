package io.qwenaudio.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;
import java.util.Objects;

/**
 * The JSON bodies of the stage functions and of the events between them (snake_case keys, absent fields
 * omitted). The same records serve plain HTTP calls and CloudEvent data, so a stage behaves the same whichever
 * way it is reached.
 *
 * <pre>
 * EncodeRequest  ─encode─▶ EncodedAudio (audio.encoded) ─adapt─▶ EncodedAudio with adapter stats (audio.adapted)
 * EmbedRequest   ─embed──▶ EmbedResponse (embedding.created)
 * any stage failure ─▶ Failure (pipeline.failed)
 * </pre>
 */
public final class Wire {
    private Wire() {
    }

    /**
     * Audio for the encode stage ({@code audio.received} data).
     *
     * @param audio       base64 of the audio file bytes (WAV, FLAC or MP3); or give {@code audioRef}
     * @param audioRef    blob-store reference to the audio file bytes
     * @param environment recording environment whose domain adapter the adapt stage applies; absent or
     *                    {@code none} = pass-through
     * @param requestId   caller's request id (defaults to the CloudEvent id or a random id)
     * @param generate    options for the generate stage, carried along unchanged
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EncodeRequest(String audio, String audioRef, String environment, String requestId,
                                GenerateParams generate) {
    }

    /**
     * Encoded audio ({@code audio.encoded} and, with {@code adapter} set or pass-through, {@code audio.adapted}).
     *
     * @param hidden          hidden states {@code [N, d]} of the valid audio tokens, windows concatenated
     * @param windows         30 s windows the clip was cut into
     * @param durationSeconds clip length
     * @param adapter         the domain adapter's health signals, when one was applied
     * @param timings         milliseconds per step of every stage so far
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EncodedAudio(String requestId, String environment, TensorPayload hidden, int windows,
                               double durationSeconds, AdapterStats adapter, Timings timings, GenerateParams generate) {

        /** This for request {@code requestId}, taking {@code fallbackEnvironment} when it names no environment. */
        public EncodedAudio forRequest(String requestId, String fallbackEnvironment) {
            String env = environment != null ? environment : fallbackEnvironment;
            if (Objects.equals(requestId, this.requestId) && Objects.equals(env, environment)) {
                return this;
            }
            return new EncodedAudio(requestId, env, hidden, windows, durationSeconds, adapter, timings, generate);
        }

        public EncodedAudio withAdapted(TensorPayload adapted, AdapterStats stats, Timings t) {
            return new EncodedAudio(requestId, environment, adapted, windows, durationSeconds, stats, t, generate);
        }
    }

    /**
     * What the domain adapter did: gate mean/min/max (roughly 0.3-0.7 is healthy) and |out - x| / |x|.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AdapterStats(String environment, double gateMean, double gateMin, double gateMax,
                               double relativeDeltaNorm) {
    }

    /** Milliseconds spent per step; steps that did not run are absent. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Timings(Double decodeMs, Double featuresMs, Double encodeMs, Double adaptMs, Double projectMs,
                          Double prefillMs, Double generateMs) {
        public static Timings none() {
            return new Timings(null, null, null, null, null, null, null);
        }

        public Timings withAdaptMs(double ms) {
            return new Timings(decodeMs, featuresMs, encodeMs, ms, projectMs, prefillMs, generateMs);
        }

        public Timings withGenerate(double project, double prefill, double generate) {
            return new Timings(decodeMs, featuresMs, encodeMs, adaptMs, project, prefill, generate);
        }
    }

    /**
     * Generation options carried from the request to the generate stage (names as in the OpenAI API and
     * {@code qwen-audio generate}). Absent fields take the model's generation defaults.
     *
     * @param prompt    the user's text, encoded as plain text inside the chat template (or after the audio
     *                  placeholder for artifacts converted with {@code --prompt-format raw})
     * @param rawPrompt a raw prompt replacing the template, as base checkpoints are prompted:
     *                  {@code <|audio_bos|><|AUDIO|><|audio_eos|>Describe the music:}; special tokens written in it are
     *                  parsed and each {@code <|AUDIO|>} marks a clip
     * @param messages  a whole conversation replacing {@code prompt} and {@code system} (the OpenAI route through the
     *                  event chain): each audio part marks the request's clip
     * @param ignoreEos run to {@code max_new_tokens} whatever the model emits (as vLLM's {@code ignore_eos})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record GenerateParams(String prompt, String system, List<Integer> promptIds, Integer maxNewTokens,
                                 Boolean greedy, Double temperature, Integer topK, Double topP,
                                 Double repetitionPenalty, Long seed, List<String> stop, String rawPrompt,
                                 List<Message> messages, Boolean ignoreEos) {

        /** Without a conversation. */
        public GenerateParams(String prompt, String system, List<Integer> promptIds, Integer maxNewTokens,
                              Boolean greedy, Double temperature, Integer topK, Double topP,
                              Double repetitionPenalty, Long seed, List<String> stop, String rawPrompt) {
            this(prompt, system, promptIds, maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stop,
                    rawPrompt, null, null);
        }

        /** Without a raw prompt. */
        public GenerateParams(String prompt, String system, List<Integer> promptIds, Integer maxNewTokens,
                              Boolean greedy, Double temperature, Integer topK, Double topP,
                              Double repetitionPenalty, Long seed, List<String> stop) {
            this(prompt, system, promptIds, maxNewTokens, greedy, temperature, topK, topP, repetitionPenalty, seed, stop,
                    null);
        }

        /** Options by name: {@code GenerateParams.builder().maxNewTokens(16).greedy(true).build()}. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds {@link GenerateParams} field by field; unset fields are absent (the model's defaults). */
        public static final class Builder {
            private String prompt, system, rawPrompt;
            private List<Integer> promptIds;
            private Integer maxNewTokens, topK;
            private Boolean greedy;
            private Double temperature, topP, repetitionPenalty;
            private Long seed;
            private List<String> stop;
            private List<Message> messages;
            private Boolean ignoreEos;

            public Builder prompt(String v) { prompt = v; return this; }
            public Builder system(String v) { system = v; return this; }
            public Builder rawPrompt(String v) { rawPrompt = v; return this; }
            public Builder promptIds(List<Integer> v) { promptIds = v; return this; }
            public Builder maxNewTokens(Integer v) { maxNewTokens = v; return this; }
            public Builder greedy(Boolean v) { greedy = v; return this; }
            public Builder temperature(Double v) { temperature = v; return this; }
            public Builder topK(Integer v) { topK = v; return this; }
            public Builder topP(Double v) { topP = v; return this; }
            public Builder repetitionPenalty(Double v) { repetitionPenalty = v; return this; }
            public Builder seed(Long v) { seed = v; return this; }
            public Builder stop(List<String> v) { stop = v; return this; }
            public Builder messages(List<Message> v) { messages = v; return this; }
            public Builder ignoreEos(Boolean v) { ignoreEos = v; return this; }

            public GenerateParams build() {
                return new GenerateParams(prompt, system, promptIds, maxNewTokens, greedy, temperature, topK, topP,
                        repetitionPenalty, seed, stop, rawPrompt, messages, ignoreEos);
            }
        }
    }

    /**
     * One turn of a conversation carried in {@link GenerateParams#messages()}.
     *
     * @param role    {@code system}, {@code user} or {@code assistant}
     * @param content the turn's parts in order
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Message(String role, List<Part> content) {
    }

    /**
     * A part of a {@link Message}: {@code {"type": "text", "text": ...}} or {@code {"type": "audio"}} (the place of the
     * request's clip).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Part(String type, String text) {
        public static Part text(String text) {
            return new Part("text", text);
        }

        public static Part audio() {
            return new Part("audio", null);
        }
    }

    /**
     * Encode-only embedding request.
     *
     * @param pooling      {@code none} (hidden states [N, d]), {@code mean} or {@code max} (one [d] vector); default mean
     * @param normalize    L2-normalise the pooled vector (or every row for {@code none}); default false
     * @param format       {@code json} (float arrays) or {@code npy} (base64 .npy, float32); default json
     * @param includeHidden also return the hidden states when pooling; default false
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EmbedRequest(String audio, String audioRef, String pooling, Boolean normalize, String format,
                               Boolean includeHidden, String requestId) {
    }

    /**
     * Encode-only embedding: the pooled vector and/or the hidden states, as JSON floats or base64 {@code .npy}.
     *
     * @param tokens audio tokens N (rows of {@code hidden})
     * @param dim    width d
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EmbedResponse(String requestId, String pooling, boolean normalized, int tokens, int dim,
                                int windows, double durationSeconds, float[] embedding, String embeddingNpy,
                                float[][] hidden, String hiddenNpy, Timings timings) {
    }

    /**
     * Generated text ({@code text.generated} data).
     *
     * @param finishReason {@code stop}, {@code length} or {@code cancelled}
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TextGenerated(String requestId, String environment, String text, List<Integer> tokenIds,
                                String finishReason, Usage usage, AdapterStats adapter, Timings timings) {
    }

    /**
     * No-decode mode: the hidden states of every layer for the prompt (embeddings + one per decoder layer; 33
     * tensors of {@code [S, H]} for the 7B model), each as a {@code .npy} payload.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HiddenStates(String requestId, int promptTokens, List<TensorPayload> hiddenStates) {
    }

    /** Token counts, as in the OpenAI API. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Usage(int promptTokens, int completionTokens, int totalTokens) {
    }

    /**
     * A request that failed ({@code pipeline.failed} data, and the JSON body of every 4xx/5xx answer).
     *
     * @param stage     the stage that failed ({@code encode}, {@code adapt}, {@code generate}, {@code embed}, ...)
     * @param status    the HTTP status this failure maps to (400, 413, 422, 429, 500, 503)
     * @param error     a short machine-readable code, e.g. {@code invalid_audio}, {@code unknown_environment}
     * @param message   what was wrong and what is accepted, one line
     * @param requestId the original request id
     * @param eventId   the id of the event that failed, when it came as a CloudEvent
     * @param param     the request field or parameter at fault, when one is (e.g. {@code max_new_tokens},
     *                  {@code request_id}, {@code audio})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Failure(String stage, int status, String error, String message, String requestId, String eventId,
                          String param) {

        /** Without a field at fault. */
        public Failure(String stage, int status, String error, String message, String requestId, String eventId) {
            this(stage, status, error, message, requestId, eventId, null);
        }

        /** This failure for {@code stage}. */
        public Failure withStage(String s) {
            return new Failure(s, status, error, message, requestId, eventId, param);
        }
    }
}
