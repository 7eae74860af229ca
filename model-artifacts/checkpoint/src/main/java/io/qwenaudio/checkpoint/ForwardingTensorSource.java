package io.qwenaudio.checkpoint;

import java.util.Set;

/**
 * A {@link TensorSource} that passes every call to another one: wrappers (LoRA merging, progress reporting)
 * override only what they change.
 */
public abstract class ForwardingTensorSource implements TensorSource {

    protected final TensorSource base;

    protected ForwardingTensorSource(TensorSource base) {
        this.base = base;
    }

    @Override
    public Set<String> names() {
        return base.names();
    }

    @Override
    public long[] shape(String name) {
        return base.shape(name);
    }

    @Override
    public String dtype(String name) {
        return base.dtype(name);
    }

    @Override
    public float[] floats(String name) {
        return base.floats(name);
    }

    @Override
    public void streamFloats(String name, int chunkElements, SafetensorsFile.FloatChunkConsumer consumer) {
        base.streamFloats(name, chunkElements, consumer);
    }
}
