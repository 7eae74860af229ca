package io.qwenaudio.checkpoint;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Float32 tensors held in memory: for generated checkpoints and tests. Keeps insertion order. */
public final class InMemoryTensorSource implements TensorSource {

    private record Entry(long[] shape, float[] data) {
    }

    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    public InMemoryTensorSource put(String name, float[] data, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.length + " values for shape "
                    + Arrays.toString(shape));
        }
        tensors.put(name, new Entry(shape.clone(), data));
        return this;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape.clone();
    }

    @Override
    public String dtype(String name) {
        entry(name);
        return "F32";
    }

    @Override
    public float[] floats(String name) {
        return entry(name).data.clone();
    }

    private Entry entry(String name) {
        Entry e = tensors.get(name);
        if (e == null) throw new CheckpointException("missing tensor '" + name + "'");
        return e;
    }
}
