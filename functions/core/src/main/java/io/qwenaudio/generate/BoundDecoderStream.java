package io.qwenaudio.generate;

import ai.onnxruntime.OrtException;
import io.qwenaudio.runtime.binding.IoBinding;
import io.qwenaudio.runtime.binding.NativeTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The decoder stream through ONNX Runtime's IO binding: the {@code present.*} outputs are bound to the KV memory of
 * the execution provider ({@code Cuda} device memory under CUDA, ONNX Runtime's CPU memory on the CPU), stay there,
 * and are bound as they are as the next step's {@code past_key_values.*}; only {@code logits} is bound to CPU
 * memory and read. Prefill writes the cache once; each step binds the previous step's outputs as inputs.
 *
 * <p>When every layer attends with {@code GroupQueryAttention} ({@link Generator#sharesKvBuffer}), the request
 * allocates its whole cache once, {@code 2 x L} tensors {@code [1, kvH, S + max_new_tokens, D]} in the KV memory,
 * and binds each one as both {@code past_key_values.i.*} and {@code present.i.*}: ONNX Runtime then writes each
 * step's new position in place (past/present share buffer) and no step allocates or copies the cache; the
 * attention mask's length tells the kernel how many positions are valid. Otherwise every run allocates its
 * {@code present.*} in the KV memory and the previous ones are released.
 *
 * <p>Per request: one {@link IoBinding} on the shared decoder session, a confined arena for the small host inputs
 * (attention mask, position, the step's embedding row), and the {@code 2 x L} cache tensors.
 * {@link #close()} releases all of them; {@code IoBindingTest} counts that nothing stays behind.
 */
final class BoundDecoderStream implements DecoderStream {

    private static final int KEY = 0, VALUE = 1;

    private final Generator g;
    private final int layers;
    private final Arena arena = Arena.ofConfined();
    private final IoBinding binding;
    private final MemorySegment ones;          // [S + max_new_tokens] int64 ones: the attention mask's storage
    private final MemorySegment position;     // [1] int64: the step's position id
    private final MemorySegment stepEmbeds;   // [H] float: the step's embedding row
    private final NativeTensor positionT;     // [1, 1] over position
    private final NativeTensor stepEmbedsT;   // [1, 1, H] over stepEmbeds
    private List<NativeTensor> presents = List.of();   // [2L]: present.i.key, present.i.value of the last run
    private final List<NativeTensor> shared;          // [2L] max-length buffers bound as past and present, or null

    BoundDecoderStream(Generator g, int positions) throws OrtException {
        this.g = g;
        this.layers = g.layers();
        IoBinding b = null;
        NativeTensor p = null, e1 = null;
        try {
            b = new IoBinding(g.decoderSession());
            ones = arena.allocate(JAVA_LONG, positions);
            ones.fill((byte) 0);
            for (long i = 0; i < positions; i++) ones.setAtIndex(JAVA_LONG, i, 1L);
            position = arena.allocate(JAVA_LONG);
            stepEmbeds = arena.allocate(JAVA_FLOAT, g.hidden());
            p = NativeTensor.wrap(g.cpuMemory(), position, NativeTensor.INT64, 1, 1);
            e1 = NativeTensor.wrap(g.cpuMemory(), stepEmbeds, NativeTensor.FLOAT, 1, 1, g.hidden());
            stepEmbedsT = e1;
            shared = g.kvAllocator() == null ? null : allocateCache(positions);
        } catch (OrtException | RuntimeException e) {
            if (e1 != null) e1.close();
            if (p != null) p.close();
            if (b != null) b.close();
            arena.close();
            throw e;
        }
        this.binding = b;
        this.positionT = p;
    }

    @Override
    public float[] prefill(FloatBuffer embeds, int s) throws OrtException {
        List<NativeTensor> in = new ArrayList<>();
        try {
            MemorySegment rows = MemorySegment.ofBuffer(embeds);                              // [S, H], no copy
            MemorySegment positions = arena.allocate(JAVA_LONG, s);
            for (int i = 0; i < s; i++) positions.setAtIndex(JAVA_LONG, i, i);
            NativeTensor x = add(in, NativeTensor.wrap(g.cpuMemory(), rows, NativeTensor.FLOAT, 1, s, g.hidden()));
            NativeTensor mask = add(in, NativeTensor.wrap(g.cpuMemory(), ones, NativeTensor.INT64, 1, s));  // [1, S]
            NativeTensor pos = add(in, NativeTensor.wrap(g.cpuMemory(), positions, NativeTensor.INT64, 1, s)); // [1, S]
            binding.bindInput("inputs_embeds", x);
            binding.bindInput("attention_mask", mask);
            binding.bindInput("position_ids", pos);
            if (shared != null) {
                bindShared();                                 // positions [0, S) written in place
            } else {
                MemorySegment none = arena.allocate(16);
                NativeTensor[] empty = new NativeTensor[32];  // one empty [1, kvH, 0, D] per declared element type
                for (int i = 0; i < layers; i++) {
                    for (int kv = KEY; kv <= VALUE; kv++) {
                        int type = g.pastType(i, kv);
                        if (empty[type] == null) {
                            empty[type] = add(in, NativeTensor.wrap(g.cpuMemory(), none, type, 1, g.kvHeads(), 0, g.headDim()));
                        }
                        binding.bindInput(pastName(i, kv), empty[type]);
                    }
                }
            }
            return runAndCollect();
        } finally {
            binding.clearInputs();
            for (NativeTensor t : in) t.close();
            Reference.reachabilityFence(embeds);
        }
    }

    @Override
    public float[] step(int id, int pos) throws OrtException {
        MemorySegment.copy(g.embedRow(id), 0, stepEmbeds, JAVA_FLOAT, 0, g.hidden());      // [1, 1, H]
        position.set(JAVA_LONG, 0, pos);
        try (NativeTensor mask = NativeTensor.wrap(g.cpuMemory(), ones, NativeTensor.INT64, 1, pos + 1)) { // [1, P+1]
            try {
                binding.bindInput("inputs_embeds", stepEmbedsT);
                binding.bindInput("attention_mask", mask);
                binding.bindInput("position_ids", positionT);
                if (shared != null) {
                    bindShared();                                                        // position P written in place
                } else {
                    for (int i = 0; i < layers; i++) {                                    // [1, kvH, P, D], in place
                        binding.bindInput(pastName(i, KEY), presents.get(2 * i));
                        binding.bindInput(pastName(i, VALUE), presents.get(2 * i + 1));
                    }
                }
                return runAndCollect();
            } finally {
                binding.clearInputs();
            }
        }
    }

    /**
     * The request's whole cache: 2L tensors [1, kvH, positions, D] of the declared types in the KV memory: on the
     * CPU in this stream's arena (released with it), elsewhere from the session's allocator for that memory.
     */
    private List<NativeTensor> allocateCache(int positions) throws OrtException {
        boolean cpu = g.kvMemory().name().equalsIgnoreCase("Cpu");
        List<NativeTensor> cache = new ArrayList<>(2 * layers);
        try {
            for (int i = 0; i < layers; i++) {
                for (int kv = KEY; kv <= VALUE; kv++) {
                    int type = g.pastType(i, kv);
                    long[] shape = {1, g.kvHeads(), positions, g.headDim()};
                    cache.add(cpu
                            ? NativeTensor.wrap(g.cpuMemory(), arena.allocate((long) g.kvHeads() * positions * g.headDim()
                                    * NativeTensor.elementBytes(type), 64), type, shape)
                            : g.kvAllocator().allocate(type, shape));
                }
            }
            return cache;
        } catch (OrtException | RuntimeException e) {
            for (NativeTensor t : cache) t.close();
            throw e;
        }
    }

    /** Binds each layer's max-length buffer as its past and its present (the share-buffer form). */
    private void bindShared() throws OrtException {
        for (int i = 0; i < layers; i++) {
            binding.bindInput(pastName(i, KEY), shared.get(2 * i));
            binding.bindInput(pastName(i, VALUE), shared.get(2 * i + 1));
        }
    }

    /** Runs with logits bound to CPU memory and the cache to the KV memory; keeps the new cache, returns logits [V]. */
    private float[] runAndCollect() throws OrtException {
        binding.clearOutputs();            // unshared: output shapes grow by one position per step, every run allocates
        binding.bindOutput("logits", g.cpuMemory());
        for (int i = 0; i < layers; i++) {
            if (shared != null) {
                binding.bindOutput("present." + i + ".key", shared.get(2 * i));
                binding.bindOutput("present." + i + ".value", shared.get(2 * i + 1));
            } else {
                binding.bindOutput("present." + i + ".key", g.kvMemory());
                binding.bindOutput("present." + i + ".value", g.kvMemory());
            }
        }
        binding.run();
        List<NativeTensor> out = binding.outputs();                          // [logits, present.0.key, ...]
        binding.clearOutputs();
        float[] logits;
        try {
            if (out.size() != 1 + 2 * layers) {
                throw new IllegalStateException("the decoder run returned " + out.size() + " bound outputs, expected "
                        + (1 + 2 * layers));
            }
            logits = out.getFirst().lastFloats(g.vocab());                  // [1, 1, V] -> [V]
        } catch (OrtException | RuntimeException e) {
            for (NativeTensor t : out) t.close();
            throw e;
        }
        out.getFirst().close();
        for (NativeTensor t : presents) t.close();                          // the previous step's cache
        presents = out.subList(1, out.size());
        return logits;
    }

    private static String pastName(int layer, int kv) {
        return "past_key_values." + layer + (kv == KEY ? ".key" : ".value");
    }

    private static NativeTensor add(List<NativeTensor> list, NativeTensor t) {
        list.add(t);
        return t;
    }

    @Override
    public void close() {
        try {
            for (NativeTensor t : presents) t.close();
            presents = List.of();
            if (shared != null) for (NativeTensor t : shared) t.close();
            stepEmbedsT.close();
            positionT.close();
            binding.close();
        } finally {
            arena.close();
        }
    }
}
