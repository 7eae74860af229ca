package io.qwenaudio.checkpoint;

import java.util.Arrays;
import java.util.Set;

/**
 * Named weight tensors, read on demand. Names are canonical (the hub layout of Qwen2-Audio, see
 * {@link KeyLayout}): {@code audio_tower.*}, {@code multi_modal_projector.*}, {@code language_model.model.*},
 * {@code language_model.lm_head.weight}; adapters and LoRA files use their own names.
 *
 * <p>Implementations convert any stored dtype (BF16, F16, F32) to float32 on read and never hold more than the
 * tensor asked for on the heap, so a converter can stream a 16.8 GB checkpoint one tensor at a time.
 */
public interface TensorSource {

    /** Every tensor name this source holds. */
    Set<String> names();

    default boolean has(String name) {
        return names().contains(name);
    }

    /** Shape of a tensor; throws {@link CheckpointException} naming the tensor when it is absent. */
    long[] shape(String name);

    /** Stored dtype name as in safetensors ({@code BF16}, {@code F16}, {@code F32}). */
    String dtype(String name);

    /** The tensor converted to float32, row-major. */
    float[] floats(String name);

    /**
     * The tensor converted to float32 piece by piece ({@code chunkElements} at a time, the buffer reused), so a
     * tensor larger than the heap (a 156k x 4096 embedding) can be copied elsewhere. Sources backed by files
     * override this to stream; the default reads the whole tensor.
     */
    default void streamFloats(String name, int chunkElements, SafetensorsFile.FloatChunkConsumer consumer) {
        streamArray(floats(name), chunkElements, consumer);
    }

    /** Hands an in-memory tensor to {@code consumer} in pieces of {@code chunkElements}, as {@link #streamFloats} does. */
    static void streamArray(float[] all, int chunkElements, SafetensorsFile.FloatChunkConsumer consumer) {
        float[] buf = new float[Math.max(1, Math.min(chunkElements, all.length))];
        for (int from = 0; from < all.length; from += buf.length) {
            int n = Math.min(buf.length, all.length - from);
            System.arraycopy(all, from, buf, 0, n);
            consumer.accept(buf, from, n);
        }
    }

    /**
     * The tensor converted to float32 after checking its shape; the error names the tensor, the expected and the
     * found shape.
     */
    default float[] floats(String name, long... expectedShape) {
        requireShape(name, expectedShape);
        return floats(name);
    }

    /** Throws a {@link CheckpointException} naming the tensor and both shapes unless it has {@code expectedShape}. */
    default void requireShape(String name, long... expectedShape) {
        long[] s = shape(name);
        if (!Arrays.equals(s, expectedShape)) {
            throw new CheckpointException("tensor '" + name + "' has shape " + Arrays.toString(s)
                    + ", expected " + Arrays.toString(expectedShape));
        }
    }
}
