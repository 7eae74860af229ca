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
 * <p>With the generator's shared KV buffer ({@link Generator#sharedKvBuffer()}) the cache is allocated once, at the
 * request's full length, and the same {@code 2 x L} tensors are bound as {@code past_key_values.*} and as
 * {@code present.*} of every run: GroupQueryAttention writes the new positions in place and copies nothing.
 *
 * <p>Per request: one {@link IoBinding} on the shared decoder session, a confined arena for the small host inputs
 * (attention mask, position, the step's embedding row), and the {@code 2 x L} cache tensors of the last run.
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
    /** The shared buffers [2L] of [1, kvH, positions, D] (null without a shared buffer): past and present of every run. */
    private final List<NativeTensor> shared;

    BoundDecoderStream(Generator g, int positions) throws OrtException {
        this.g = g;
        this.layers = g.layers();
        IoBinding b = null;
        NativeTensor p = null;
        List<NativeTensor> kv = new ArrayList<>();
        try {
            if (g.sharedKvBuffer()) {
                for (int i = 0; i < layers; i++) {
                    for (int k = KEY; k <= VALUE; k++) {
                        kv.add(g.kvAllocator().allocate(g.pastType(i, k), 1, g.kvHeads(), positions, g.headDim()));
                    }
                }
            }
            b = new IoBinding(g.decoderSession());
            ones = arena.allocate(JAVA_LONG, positions);
            ones.fill((byte) 0);
            for (long i = 0; i < positions; i++) ones.setAtIndex(JAVA_LONG, i, 1L);
            position = arena.allocate(JAVA_LONG);
            stepEmbeds = arena.allocate(JAVA_FLOAT, g.hidden());
            p = NativeTensor.wrap(g.cpuMemory(), position, NativeTensor.INT64, 1, 1);
            stepEmbedsT = NativeTensor.wrap(g.cpuMemory(), stepEmbeds, NativeTensor.FLOAT, 1, 1, g.hidden());
        } catch (OrtException | RuntimeException e) {
            for (NativeTensor t : kv) t.close();
            if (p != null) p.close();
            if (b != null) b.close();
            arena.close();
            throw e;
        }
        this.binding = b;
        this.positionT = p;
        this.shared = g.sharedKvBuffer() ? List.copyOf(kv) : null;
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
            MemorySegment none = arena.allocate(16);
            NativeTensor[] empty = new NativeTensor[32];      // one empty [1, kvH, 0, D] per declared element type
            for (int i = 0; i < layers && shared != null; i++) {  // the full-length buffer; the mask says P = 0
                binding.bindInput(pastName(i, KEY), shared.get(2 * i));
                binding.bindInput(pastName(i, VALUE), shared.get(2 * i + 1));
            }
            for (int i = 0; i < layers && shared == null; i++) {
                for (int kv = KEY; kv <= VALUE; kv++) {
                    int type = g.pastType(i, kv);
                    if (empty[type] == null) {
                        empty[type] = add(in, NativeTensor.wrap(g.cpuMemory(), none, type, 1, g.kvHeads(), 0, g.headDim()));
                    }
                    binding.bindInput(pastName(i, kv), empty[type]);
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
                List<NativeTensor> past = shared != null ? shared : presents;
                for (int i = 0; i < layers; i++) {                                        // [1, kvH, P, D], in place
                    binding.bindInput(pastName(i, KEY), past.get(2 * i));
                    binding.bindInput(pastName(i, VALUE), past.get(2 * i + 1));
                }
                return runAndCollect();
            } finally {
                binding.clearInputs();
            }
        }
    }

    /**
     * Runs with logits bound to CPU memory and the cache to the KV memory (or to the shared buffers); keeps the new
     * cache, returns logits [V].
     */
    private float[] runAndCollect() throws OrtException {
        binding.clearOutputs();            // output shapes grow by one position per step: let every run allocate
        binding.bindOutput("logits", g.cpuMemory());
        for (int i = 0; i < layers; i++) {
            if (shared != null) {          // written in place: the same tensors as the bound past
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
        if (shared != null) {              // further references to the shared buffers: the stream keeps its own
            for (NativeTensor t : out.subList(1, out.size())) t.close();
            return logits;
        }
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
