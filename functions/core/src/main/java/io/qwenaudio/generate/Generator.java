package io.qwenaudio.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.runtime.binding.MemoryInfo;
import io.qwenaudio.runtime.binding.NativeAllocator;
import io.qwenaudio.runtime.binding.NativeTensor;
import io.qwenaudio.runtime.binding.OrtCApi;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.PromptBuilder.Prompt;
import io.qwenaudio.text.Tokenizer;

import java.lang.foreign.Arena;
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
 * <p>This object is the shared model: thread-safe, one instance serves concurrent requests (ONNX Runtime sessions
 * are thread-safe). Each {@link #generate} call makes a cheap per-request {@link GenerationState} (as sherpa-onnx
 * separates the model from the per-request stream) that owns the KV cache handles, the IO binding and the step
 * loop, and releases them when the request ends. Owns its sessions and the tokenizer.
 *
 * <p>The KV cache stays where the execution provider computed it. With IO binding on (the default) the
 * {@code present.*} outputs are bound to the provider's device memory and passed, as they are, as the next step's
 * {@code past_key_values.*} inputs ({@link io.qwenaudio.runtime.binding.IoBinding}); with it off, the
 * {@code present.*} tensors of a run's still open {@link OrtSession.Result} are the next run's inputs (no copy into
 * Java on the CPU, but under CUDA the Java API brings every output back to host memory). Either way only the
 * last position's logits {@code [V]} come back to Java per token, for the {@link Sampler}; the KV tensors' element
 * type is the one the decoder declares (fp32 or fp16).
 *
 * <p>Shared KV buffer: when the decoder's attention is {@code com.microsoft.GroupQueryAttention} (the fused graphs)
 * and IO binding is on, each request allocates its cache once at its full length ({@code [1, kvH, S +
 * max_new_tokens, D]} per layer, in the KV memory) and binds the same tensors as {@code past_key_values.*} and
 * {@code present.*} of every run. GroupQueryAttention then sees that past and present share a buffer and writes
 * only the new positions, instead of zeroing a new present tensor and copying the whole past into it each step
 * (which makes every decode step cost a pass over the whole cache on top of the attention itself).
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
    /** ONNX element type of each past_key_values input, as the decoder declares it ([L][0 = key, 1 = value]). */
    private final int[][] pastTypes;
    private final KvPlacement placement;
    /** Memory infos of the bound path (null with IO binding off); shared by all requests, closed by the owner. */
    private final MemoryInfo cpuMemory, kvMemory;
    /** Whether requests keep one full-length KV buffer per layer bound as both past and present (see class doc). */
    private final boolean sharedKv;
    /** Allocates the shared KV buffers in the KV memory (null without a shared buffer). */
    private final NativeAllocator kvAllocator;
    private final boolean owner;

    /**
     * Where the KV cache of a generation lives.
     *
     * @param ioBinding bind the decoder's inputs and outputs through ONNX Runtime's IO binding (true) or use the
     *                  Java API's run (false)
     * @param device    ONNX Runtime's memory name for the KV cache with IO binding: {@code Cpu} or {@code Cuda}
     * @param deviceId  the device ordinal
     */
    public record KvPlacement(boolean ioBinding, String device, int deviceId) {
        public static final KvPlacement CPU_BOUND = new KvPlacement(true, "Cpu", 0);
        public static final KvPlacement PLAIN = new KvPlacement(false, "Cpu", 0);

        /** The placement for a provider as {@code SessionFactory#provider()} names it ({@code cpu}, {@code cuda:0}). */
        public static KvPlacement forProvider(String provider, boolean ioBinding) {
            if (provider.startsWith("cuda")) {
                int id = provider.contains(":") ? Integer.parseInt(provider.substring(provider.indexOf(':') + 1)) : 0;
                return new KvPlacement(ioBinding, MemoryInfo.CUDA, id);
            }
            return new KvPlacement(ioBinding, "Cpu", 0);
        }
    }

    /** A generator on the CPU with IO binding on. */
    public Generator(OrtEnvironment env, OrtSession embedTokens, OrtSession decoder, Tokenizer tokenizer, Manifest manifest)
            throws OrtException {
        this(env, embedTokens, decoder, tokenizer, manifest, KvPlacement.CPU_BOUND);
    }

    public Generator(OrtEnvironment env, OrtSession embedTokens, OrtSession decoder, Tokenizer tokenizer, Manifest manifest,
                     KvPlacement placement) throws OrtException {
        this.env = env;
        this.embed = embedTokens;
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.manifest = manifest;
        this.placement = placement;
        this.owner = true;
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
        Map<String, NodeInfo> inputs = decoder.getInputInfo();
        this.pastTypes = new int[layers][2];
        for (int i = 0; i < layers; i++) {
            pastTypes[i][0] = NativeTensor.elementType(((TensorInfo) inputs.get("past_key_values." + i + ".key").getInfo()).onnxType);
            pastTypes[i][1] = NativeTensor.elementType(((TensorInfo) inputs.get("past_key_values." + i + ".value").getInfo()).onnxType);
        }
        if (placement.ioBinding()) {
            long seen = OrtCApi.get().inputCount(decoder);
            if (seen != decoder.getNumInputs()) {
                throw new IllegalStateException("the IO binding reads " + seen + " decoder inputs through the native "
                        + "session handle, the Java API " + decoder.getNumInputs() + ": the onnxruntime jar is not the "
                        + "one this binding was written for; set qwen-audio.runtime.io-binding=off");
            }
            MemoryInfo cpu = MemoryInfo.cpu();
            try {
                this.kvMemory = placement.device().equalsIgnoreCase("Cpu") ? cpu
                        : MemoryInfo.device(placement.device(), placement.deviceId());
            } catch (OrtException | RuntimeException e) {
                cpu.close();
                throw e;
            }
            this.cpuMemory = cpu;
        } else {
            this.cpuMemory = null;
            this.kvMemory = null;
        }
        this.sharedKv = placement.ioBinding() && gqaDecoder(manifest);
        this.kvAllocator = sharedKv ? allocatorOrClose(decoder, kvMemory) : null;
    }

    /** Whether the manifest says the decoder's attention is GroupQueryAttention (which can share its KV buffer). */
    static boolean gqaDecoder(Manifest m) {
        Manifest.GraphSpec d = m.graphs() == null ? null : m.graphs().get(Manifest.DECODER);
        return d != null && d.requiredOps().contains("com.microsoft:GroupQueryAttention");
    }

    private NativeAllocator allocatorOrClose(OrtSession session, MemoryInfo where) throws OrtException {
        try {
            return NativeAllocator.of(session, where);
        } catch (OrtException | RuntimeException e) {
            if (kvMemory != null && kvMemory != cpuMemory) kvMemory.close();
            if (cpuMemory != null) cpuMemory.close();
            throw e;
        }
    }

    /**
     * A view sharing {@code g}'s sessions with another placement and KV buffer mode; closing it releases only its
     * memory infos and allocator.
     */
    private Generator(Generator g, KvPlacement placement, boolean sharedKv) throws OrtException {
        this.env = g.env;
        this.embed = g.embed;
        this.decoder = g.decoder;
        this.tokenizer = g.tokenizer;
        this.manifest = g.manifest;
        this.hidden = g.hidden;
        this.layers = g.layers;
        this.kvHeads = g.kvHeads;
        this.headDim = g.headDim;
        this.vocab = g.vocab;
        this.maxPositions = g.maxPositions;
        this.decodeOutputs = g.decodeOutputs;
        this.hiddenOutputs = g.hiddenOutputs;
        this.pastTypes = g.pastTypes;
        this.placement = placement;
        this.owner = false;
        if (placement.ioBinding()) {
            this.cpuMemory = MemoryInfo.cpu();
            this.kvMemory = placement.device().equalsIgnoreCase("Cpu") ? cpuMemory
                    : MemoryInfo.device(placement.device(), placement.deviceId());
        } else {
            this.cpuMemory = null;
            this.kvMemory = null;
        }
        this.sharedKv = sharedKv && placement.ioBinding() && gqaDecoder(manifest);
        this.kvAllocator = this.sharedKv ? allocatorOrClose(decoder, kvMemory) : null;
    }

    /**
     * This model with IO binding switched on or off (same sessions, same tokenizer), e.g. to compare the two paths
     * in one process. Close the view when done; it does not close the shared sessions.
     */
    public Generator withIoBinding(boolean on) throws OrtException {
        return new Generator(this, new KvPlacement(on, placement.device(), placement.deviceId()), true);
    }

    /**
     * This model with the shared KV buffer switched on (where the decoder and IO binding allow it) or off (each run
     * allocates a new present cache one position longer), e.g. to compare the two in one process. Close the view
     * when done; it does not close the shared sessions.
     */
    public Generator withSharedKvBuffer(boolean on) throws OrtException {
        return new Generator(this, placement, on);
    }

    /** Whether requests keep one full-length KV buffer bound as both past and present (see the class doc). */
    public boolean sharedKvBuffer() {
        return sharedKv;
    }

    /** Whether decode steps go through ONNX Runtime's IO binding. */
    public boolean ioBinding() {
        return placement.ioBinding();
    }

    public KvPlacement placement() {
        return placement;
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

    /** Bytes of KV cache per position: K and V x layers x kvH x headDim x the declared element size (4 fp32, 2 fp16). */
    public long kvBytesPerToken() {
        long b = 0;
        for (int[] t : pastTypes) {
            b += (long) kvHeads * headDim * (NativeTensor.elementBytes(t[0]) + NativeTensor.elementBytes(t[1]));
        }
        return b;
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
        // compared without adding, so a huge max_new_tokens cannot overflow past the check (the request's buffers
        // are sized by s + max_new_tokens <= maxPositions)
        if (o.maxNewTokens() > maxPositions - s) throw new ContextOverflowException(s, o.maxNewTokens(), maxPositions);
        if (s < 1) throw new InvalidGenerationException("the prompt is empty; at least 1 token is needed");
        // the request's host buffers live in an arena freed when it ends, not when a garbage collection finds them
        // (at the 7B width the prompt rows alone are 13 MB for a 30 s clip)
        try (Arena request = Arena.ofConfined()) {
            FloatBuffer embeds = promptEmbedRows(prompt, audioEmbeds, request);               // [S * H]
            try (GenerationState state = new GenerationState(this, prompt, o, listener, t0)) {
                return state.run(embeds);
            }
        }
    }

    /** The decoder stream of one request: bound (IO binding) or plain, per this generator's placement. */
    DecoderStream openStream(int maxPositionsOfRequest) throws OrtException {
        return placement.ioBinding() ? new BoundDecoderStream(this, maxPositionsOfRequest)
                : new PlainDecoderStream(this, maxPositionsOfRequest);
    }

    // ---- package-private model facts for the per-request streams ----

    OrtEnvironment env() {
        return env;
    }

    OrtSession embedSession() {
        return embed;
    }

    OrtSession decoderSession() {
        return decoder;
    }

    int hidden() {
        return hidden;
    }

    int layers() {
        return layers;
    }

    int kvHeads() {
        return kvHeads;
    }

    int headDim() {
        return headDim;
    }

    int vocab() {
        return vocab;
    }

    Set<String> decodeOutputs() {
        return decodeOutputs;
    }

    int pastType(int layer, int keyOrValue) {
        return pastTypes[layer][keyOrValue];
    }

    MemoryInfo cpuMemory() {
        return cpuMemory;
    }

    MemoryInfo kvMemory() {
        return kvMemory;
    }

    NativeAllocator kvAllocator() {
        return kvAllocator;
    }

    /** Embedding row of one token id: {@code [H]}, from the embed_tokens graph. */
    float[] embedRow(int id) throws OrtException {
        try (OnnxTensor idT = OnnxTensor.createTensor(env, longs(id, 1), new long[] {1, 1});
             OrtSession.Result e = embed.run(Map.of("input_ids", idT))) {
            FloatBuffer fb = ((OnnxTensor) e.get(0)).getFloatBuffer();                       // [1, 1, H]
            float[] row = new float[hidden];
            fb.get(row);
            return row;
        }
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
        try (Arena request = Arena.ofConfined()) {
            return prefill(promptEmbedRows(prompt, audioEmbeds, request), s, ones, outputs); // inputs copied by the run
        }
    }

    /** Decoder run over {@code s} positions of embeddings {@code [S * H]} with an empty cache (P = 0). */
    OrtSession.Result prefill(FloatBuffer embeds, int s, LongBuffer ones, Set<String> outputs) throws OrtException {
        Map<String, OnnxTensor> in = new HashMap<>();
        Map<Integer, OnnxTensor> empties = new HashMap<>();
        try {
            in.put("inputs_embeds", OnnxTensor.createTensor(env, embeds, new long[] {1, s, hidden}));   // [1, S, H]
            in.put("attention_mask", OnnxTensor.createTensor(env, prefix(ones, s), new long[] {1, s})); // [1, S]
            in.put("position_ids", OnnxTensor.createTensor(env, longs(0, s), new long[] {1, s}));       // [1, S]
            Map<String, OnnxTensor> feed = new HashMap<>(in);
            for (int i = 0; i < layers; i++) {              // one empty [1, kvH, 0, D] tensor per declared type
                feed.put("past_key_values." + i + ".key", emptyPast(empties, pastTypes[i][0]));
                feed.put("past_key_values." + i + ".value", emptyPast(empties, pastTypes[i][1]));
            }
            return decoder.run(feed, outputs);
        } finally {
            OnnxValue.close(in);
            OnnxValue.close(empties.values());
        }
    }

    /** An empty {@code [1, kvH, 0, D]} tensor of an ONNX element type (float or float16). */
    private OnnxTensor emptyPast(Map<Integer, OnnxTensor> cache, int type) throws OrtException {
        OnnxTensor t = cache.get(type);
        if (t != null) return t;
        long[] shape = {1, kvHeads, 0, headDim};
        if (type == NativeTensor.FLOAT) {
            t = OnnxTensor.createTensor(env, directFloats(0), shape);
        } else {
            OnnxJavaType jt = type == NativeTensor.BFLOAT16 ? OnnxJavaType.BFLOAT16 : OnnxJavaType.FLOAT16;
            t = OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()), shape, jt);
        }
        cache.put(type, t);
        return t;
    }

    /** One decode step: the new token at position {@code pos} attends to the cache held by {@code past}. */
    OrtSession.Result step(int id, int pos, OrtSession.Result past, LongBuffer ones) throws OrtException {
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

    /** Token embeddings of the prompt with the audio rows written at the audio positions: [S * H], direct. */
    private FloatBuffer promptEmbedRows(Prompt p, FloatTensor audio, Arena arena) throws OrtException {
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
        FloatBuffer x = arena.allocate((long) s * hidden * Float.BYTES, 64).asByteBuffer().order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        try (OnnxTensor idT = OnnxTensor.createTensor(env, idsOf(ids, arena), new long[] {1, s});
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
        return x;
    }

    /** The named output of a decoder run; a missing one means the graph is not the decoder this class expects. */
    private static OnnxTensor tensor(OrtSession.Result r, String name) {
        return (OnnxTensor) r.get(name).orElseThrow(() -> new IllegalStateException("decoder output " + name + " missing"));
    }

    /** The {@code logits} output of a decoder run, copied: [V] of the last position. */
    static float[] logits(OrtSession.Result r) {
        return floats(r, "logits");
    }

    private static float[] floats(OrtSession.Result r, String name) {
        FloatBuffer fb = tensor(r, name).getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    static LongBuffer directLongs(int n) {
        return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /** The first n values of a direct buffer, shared (zero-copy). */
    private static LongBuffer prefix(LongBuffer b, int n) {
        return b.duplicate().position(0).limit(n);
    }

    static LongBuffer longs(long from, int n) {
        LongBuffer b = directLongs(n);
        for (int i = 0; i < n; i++) b.put(i, from + i);
        return b;
    }

    private static LongBuffer idsOf(int[] ids, Arena arena) {
        LongBuffer b = arena.allocate((long) ids.length * Long.BYTES, 64).asByteBuffer().order(ByteOrder.nativeOrder())
                .asLongBuffer();
        for (int i = 0; i < ids.length; i++) b.put(i, ids[i]);
        return b;
    }

    @Override
    public void close() throws OrtException {
        try {
            if (kvAllocator != null) kvAllocator.close();
            if (kvMemory != null && kvMemory != cpuMemory) kvMemory.close();
            if (cpuMemory != null) cpuMemory.close();
            if (!owner) return;
            decoder.close();
            embed.close();
        } finally {
            if (owner) tokenizer.close();
        }
    }
}
