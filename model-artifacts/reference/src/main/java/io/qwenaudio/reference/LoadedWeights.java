package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.TensorSource;

/**
 * Reads every tensor of a source whose name starts with a prefix once, into memory, so a reference forward that
 * asks for its weights by name does not convert (or regenerate) them on every call.
 */
final class LoadedWeights {

    private LoadedWeights() {
    }

    /** Float32 copies of every tensor named {@code prefix*} (all tensors for an empty prefix). */
    static TensorSource of(TensorSource w, String prefix) {
        if (w instanceof InMemoryTensorSource) return w;
        InMemoryTensorSource m = new InMemoryTensorSource();
        for (String name : w.names()) {
            if (name.startsWith(prefix)) m.put(name, w.floats(name), w.shape(name));
        }
        return m;
    }
}
