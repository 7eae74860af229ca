package io.qwenaudio.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.PromptBuilder.Prompt;
import io.qwenaudio.text.Tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Text generation with the converted Qwen2 decoder on ONNX Runtime: the {@code embed_tokens} graph gives the
 * prompt's token embeddings, the audio rows replace the {@code <|AUDIO|>} positions, one decoder run fills the KV
 * cache (prefill), then one decoder run per new token (decode) until a stop token, a stop string or
 * {@code max_new_tokens}.
 *
 * <p>The KV cache stays in ONNX Runtime's memory: the {@code present.*} tensors of a run's (still open)
 * {@link OrtSession.Result} are passed as the next run's {@code past_key_values.*} inputs and that result is closed
 * only after the next run, so no key or value is copied into Java. Only {@code logits [1, 1, V]} comes back to
 * Java per token, for the {@link Sampler}. Runs ask for the outputs they need only ({@code logits} and
 * {@code present.*} when generating, {@code hidden_states.*} in no-decode mode).
 *
 * <p>Thread-safe: one instance serves concurrent requests (ONNX Runtime sessions are thread-safe; per-request state
 * lives on the calling thread). Owns its sessions and the tokenizer.
 */
public final class Generator implements AutoCloseable {

    private final OrtEnvironment env;
    private final OrtSession embed;
    private final OrtSession decoder;
    private final Tokenizer tokenizer;
    private final Manifest manifest;
    private final int hidden, layers, kvHeads, headDim, vocab, maxPositions;
    private final Set<String> decodeOutputs;
    private final Set<String> hiddenOutputs;

    public Generator(OrtEnvironment env, OrtSession embedTokens, OrtSession decoder, Tokenizer tokenizer, Manifest manifest)
            throws OrtException {
        this.env = env;
        this.embed = embedTokens;
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.manifest = manifest;
        Manifest.TextDims t = manifest.text();
        this.hidden = t.hiddenSize();
        this.layers = t.numLayers();
        this.kvHeads = t.numKeyValueHeads();
        this.headDim = t.headDim();
        this.vocab = t.vocabSize();
        this.maxPositions = t.maxPositionEmbeddings();
        Set<String> dec = new LinkedHashSet<>(List.of("logits"));
        Set<String> hs = new LinkedHashSet<>();
        for (int i = 0; i < layers; i++) {
            dec.add("present." + i + ".key");
            dec.add("present." + i + ".value");
        }
        for (int i = 0; i <= layers; i++) hs.add("hidden_states." + i);
        this.decodeOutputs = Set.copyOf(dec);
        this.hiddenOutputs = Set.copyOf(hs);
        requireNames("embed_tokens", embed.getInputInfo().keySet(), Set.of("input_ids"));
        requireNames("embed_tokens", embed.getOutputInfo().keySet(), Set.of("inputs_embeds"));
        Set<String> decIn = new HashSet<>(List.of("inputs_embeds", "attention_mask", "position_ids"));
        for (int i = 0; i < layers; i++) {
            decIn.add("past_key_values." + i + ".key");
            decIn.add("past_key_values." + i + ".value");
        }
        requireNames("decoder", decoder.getInputInfo().keySet(), decIn);
        Set<String> decOut = new HashSet<>(dec);
        decOut.addAll(hs);
        requireNames("decoder", decoder.getOutputInfo().keySet(), decOut);
    }

    private static void requireNames(String graph, Set<String> have, Set<String> want) {
        for (String n : want) {
            if (!have.contains(n)) {
                throw new ArtifactsException("the " + graph + " graph has no tensor '" + n + "' (expected by "
                        + "manifest.json, which lists " + want.size() + " such names); convert the checkpoint again");
            }
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The checkpoint's generation defaults ({@link GenerationOptions#defaults(Manifest)}). */
    public GenerationOptions defaults() {
        return GenerationOptions.defaults(manifest);
    }

    /** Bytes of float32 KV cache per position: 2 (K and V) x layers x kvH x headDim x 4. */
    public long kvBytesPerToken() {
        return 2L * layers * kvHeads * headDim * Float.BYTES;
    }

    /** {@link #generate(Prompt, FloatTensor, GenerationOptions, TokenListener)} without streaming. */
    public Generation generate(Prompt prompt, FloatTensor audioEmbeds, GenerationOptions o) throws OrtException {
        return generate(prompt, audioEmbeds, o, null);
    }

    /**
     * Generates a continuation of {@code prompt}.
     *
     * @param prompt      expanded prompt ids; clip k's rows go to {@code [audioStart[k], audioStart[k] + audioLength[k])}
     * @param audioEmbeds {@code [N_total, H]} projected audio rows of all clips in order (null when the prompt has none)
     * @param o           options, validated here
     * @param listener    gets every token and its text piece as it is generated (nullable)
     * @throws InvalidGenerationException bad options, prompt ids outside the vocabulary, audio rows that do not fit
     * @throws ContextOverflowException   prompt length + max_new_tokens exceeds the context
     */
    public Generation generate(Prompt prompt, FloatTensor audioEmbeds, GenerationOptions o, TokenListener listener)
            throws OrtException {
        long t0 = System.nanoTime();
        o.validate();
        int s = prompt.length();
        // compared without adding, so a huge max_new_tokens cannot overflow past the check (the arrays below are
        // sized by s + max_new_tokens <= maxPositions)
        if (o.maxNewTokens() > maxPositions - s) throw new ContextOverflowException(s, o.maxNewTokens(), maxPositions);
        Set<Integer> stopIds = new HashSet<>(o.stopTokenIds());
        Sampler sampler = new Sampler(o);
        sampler.observe(prompt.ids());
        TextAssembler text = new TextAssembler(tokenizer, o.stopStrings());
        StringBuilder out = new StringBuilder();
        int[] ids = new int[o.maxNewTokens()];
        int n = 0;
        Generation.FinishReason reason = null;
        long tFirst = 0, tLast;
        LongBuffer ones = directLongs(s + o.maxNewTokens());
        for (int i = 0; i < s + o.maxNewTokens(); i++) ones.put(i, 1L);

        OrtSession.Result r = prefill(prompt, audioEmbeds, ones, decodeOutputs);
        try {
            int pos = s;
            float[] logits = logits(r);
            while (true) {
                int id = sampler.next(logits);                  // logits [V] of the last position
                sampler.observe(id);
                ids[n++] = id;
                if (n == 1) tFirst = System.nanoTime();
                String piece;
                if (stopIds.contains(id)) {
                    piece = text.finish();
                    reason = Generation.FinishReason.STOP;
                } else {
                    // an id the tokenizer does not know (the embedding rows beyond the vocabulary) adds no text and
                    // generation goes on, as transformers' decode skips it
                    piece = text.push(id);
                    if (!text.stopped() && n == o.maxNewTokens()) {
                        piece += text.finish();
                        if (!text.stopped()) reason = Generation.FinishReason.LENGTH;
                    }
                    if (text.stopped()) reason = Generation.FinishReason.STOP;
                }
                out.append(piece);
                if (listener != null && !listener.onToken(id, piece) && reason == null) {
                    reason = Generation.FinishReason.CANCELLED;
                }
                if (reason != null) break;
                OrtSession.Result next = step(id, pos, r, ones);
                r.close();
                r = next;
                pos++;
                logits = logits(r);
            }
        } finally {
            r.close();
        }
        tLast = System.nanoTime();
        double decodeSeconds = (tLast - tFirst) / 1e9;
        return new Generation(Arrays.copyOf(ids, n), out.toString(), reason, s, (tFirst - t0) / 1e6,
                n > 1 && decodeSeconds > 0 ? (n - 1) / decodeSeconds : 0, (tLast - t0) / 1e6);
    }

    /**
     * No-decode mode: one forward pass over the prompt, returning transformers' {@code output_hidden_states}: the
     * input embeddings, the outputs of layers 0..L-2 and the final-normed output of the last layer, L + 1 tensors
     * of {@code [S, H]} (33 for the 7B model).
     */
    public List<FloatTensor> hiddenStates(Prompt prompt, FloatTensor audioEmbeds) throws OrtException {
        if (prompt.length() > maxPositions) throw new ContextOverflowException(prompt.length(), 0, maxPositions);
        LongBuffer ones = directLongs(prompt.length());
        for (int i = 0; i < prompt.length(); i++) ones.put(i, 1L);
        try (OrtSession.Result r = prefill(prompt, audioEmbeds, ones, hiddenOutputs)) {
            List<FloatTensor> out = new ArrayList<>(layers + 1);
            for (int i = 0; i <= layers; i++) {
                out.add(FloatTensor.of(floats(r, "hidden_states." + i), prompt.length(), hidden)); // [S, H]
            }
            return out;
        }
    }

    /** Logits [V] of the prompt's last position from a full forward pass without cache (for checks and scoring). */
    public float[] lastLogits(Prompt prompt, FloatTensor audioEmbeds) throws OrtException {
        if (prompt.length() > maxPositions) throw new ContextOverflowException(prompt.length(), 0, maxPositions);
        LongBuffer ones = directLongs(prompt.length());
        for (int i = 0; i < prompt.length(); i++) ones.put(i, 1L);
        try (OrtSession.Result r = prefill(prompt, audioEmbeds, ones, Set.of("logits"))) {
            return logits(r);
        }
    }

    /** Decoder run over the whole prompt with an empty cache (P = 0). The caller closes the result. */
    private OrtSession.Result prefill(Prompt prompt, FloatTensor audioEmbeds, LongBuffer ones, Set<String> outputs)
            throws OrtException {
        int s = prompt.length();
        if (s < 1) throw new InvalidGenerationException("the prompt is empty; at least 1 token is needed");
        Map<String, OnnxTensor> in = new HashMap<>();
        try (OnnxTensor empty = emptyPast()) {
            in.put("inputs_embeds", promptEmbeds(prompt, audioEmbeds));                        // [1, S, H]
            in.put("attention_mask", OnnxTensor.createTensor(env, prefix(ones, s), new long[] {1, s})); // [1, S]
            in.put("position_ids", OnnxTensor.createTensor(env, longs(0, s), new long[] {1, s}));       // [1, S]
            Map<String, OnnxTensor> feed = new HashMap<>(in);
            for (int i = 0; i < layers; i++) {              // one empty [1, kvH, 0, D] tensor for every layer
                feed.put("past_key_values." + i + ".key", empty);
                feed.put("past_key_values." + i + ".value", empty);
            }
            return decoder.run(feed, outputs);
        } finally {
            OnnxValue.close(in);
        }
    }

    /**
     * An empty past [1, kvH, 0, D] in the element type the decoder declares for its KV cache (float32, or float16 /
     * bfloat16 for half-precision graphs).
     */
    private OnnxTensor emptyPast() throws OrtException {
        long[] shape = {1, kvHeads, 0, headDim};
        ai.onnxruntime.OnnxJavaType type = ((ai.onnxruntime.TensorInfo) decoder.getInputInfo()
                .get("past_key_values.0.key").getInfo()).type;
        if (type == ai.onnxruntime.OnnxJavaType.FLOAT16 || type == ai.onnxruntime.OnnxJavaType.BFLOAT16) {
            return OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()), shape, type);
        }
        return OnnxTensor.createTensor(env, directFloats(0), shape);
    }

    /** One decode step: the new token at position {@code pos} attends to the cache held by {@code past}. */
    private OrtSession.Result step(int id, int pos, OrtSession.Result past, LongBuffer ones) throws OrtException {
        try (OnnxTensor idT = OnnxTensor.createTensor(env, longs(id, 1), new long[] {1, 1});
             OrtSession.Result e = embed.run(Map.of("input_ids", idT));
             OnnxTensor mask = OnnxTensor.createTensor(env, prefix(ones, pos + 1), new long[] {1, pos + 1}); // [1, P+1]
             OnnxTensor position = OnnxTensor.createTensor(env, longs(pos, 1), new long[] {1, 1})) {
            Map<String, OnnxTensor> in = new HashMap<>();
            in.put("inputs_embeds", (OnnxTensor) e.get(0));                                    // [1, 1, H], native
            in.put("attention_mask", mask);
            in.put("position_ids", position);
            for (int i = 0; i < layers; i++) {                                                // [1, kvH, P, D], native
                in.put("past_key_values." + i + ".key", tensor(past, "present." + i + ".key"));
                in.put("past_key_values." + i + ".value", tensor(past, "present." + i + ".value"));
            }
            return decoder.run(in, decodeOutputs);
        }
    }

    /** Token embeddings of the prompt with the audio rows written at the audio positions: [1, S, H]. */
    private OnnxTensor promptEmbeds(Prompt p, FloatTensor audio) throws OrtException {
        int s = p.length();
        int[] ids = p.ids();
        for (int i = 0; i < s; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new InvalidGenerationException("prompt token id " + ids[i] + " at position " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        long audioRows = 0;
        for (int k = 0; k < p.audioLength().length; k++) {
            if (p.audioStart()[k] < 0 || p.audioStart()[k] + p.audioLength()[k] > s) {
                throw new InvalidGenerationException("audio clip " + (k + 1) + " at positions [" + p.audioStart()[k] + ", "
                        + (p.audioStart()[k] + p.audioLength()[k]) + ") does not fit in the prompt of " + s + " positions");
            }
            audioRows += p.audioLength()[k];
        }
        long given = audio == null ? 0 : audio.dim(0);
        if (given != audioRows || (audio != null && (audio.rank() != 2 || audio.dim(1) != hidden))) {
            throw new InvalidGenerationException("audio embeddings must be [" + audioRows + ", " + hidden
                    + "] (one row per audio position of the prompt), got " + (audio == null ? "none" : audio));
        }
        FloatBuffer x = directFloats(s * hidden);
        try (OnnxTensor idT = OnnxTensor.createTensor(env, idsOf(ids), new long[] {1, s});
             OrtSession.Result r = embed.run(Map.of("input_ids", idT))) {
            x.put(((OnnxTensor) r.get(0)).getFloatBuffer());                                  // [S, H]
        }
        int row = 0;
        for (int k = 0; k < p.audioLength().length; k++) {
            for (int j = 0; j < p.audioLength()[k]; j++) {
                x.position((p.audioStart()[k] + j) * hidden);
                x.put(audio.data(), row++ * hidden, hidden);
            }
        }
        x.rewind();
        return OnnxTensor.createTensor(env, x, new long[] {1, s, hidden});
    }

    /** True when the tokenizer knows the id (the tokenizer drops unknown ids from decoded text silently). */
    private static OnnxTensor tensor(OrtSession.Result r, String name) {
        return (OnnxTensor) r.get(name).orElseThrow(() -> new IllegalStateException("decoder output " + name + " missing"));
    }

    private static float[] logits(OrtSession.Result r) {
        return floats(r, "logits");
    }

    private static float[] floats(OrtSession.Result r, String name) {
        FloatBuffer fb = tensor(r, name).getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    private static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static LongBuffer directLongs(int n) {
        return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /** The first n values of a direct buffer, shared (zero-copy). */
    private static LongBuffer prefix(LongBuffer b, int n) {
        return b.duplicate().position(0).limit(n);
    }

    private static LongBuffer longs(long from, int n) {
        LongBuffer b = directLongs(n);
        for (int i = 0; i < n; i++) b.put(i, from + i);
        return b;
    }

    private static LongBuffer idsOf(int[] ids) {
        LongBuffer b = directLongs(ids.length);
        for (int i = 0; i < ids.length; i++) b.put(i, ids[i]);
        return b;
    }

    @Override
    public void close() throws OrtException {
        try {
            decoder.close();
            embed.close();
        } finally {
            tokenizer.close();
        }
    }
}
