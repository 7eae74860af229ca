package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.ForwardingTensorSource;
import io.qwenaudio.checkpoint.SafetensorsFile;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.tensor.Npy;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/** Reports every tensor read on a stream: index, name, size, elapsed time, so a long conversion shows progress. */
final class ProgressSource extends ForwardingTensorSource {
    private final PrintStream out;
    private final int total;
    private final long t0 = System.nanoTime();
    private int done;
    private double mb;

    ProgressSource(TensorSource base, PrintStream out) {
        super(base);
        this.out = out;
        this.total = base.names().size();
    }

    @Override
    public void streamFloats(String name, int chunkElements, SafetensorsFile.FloatChunkConsumer c) {
        base.streamFloats(name, chunkElements, c);
        done++;
        mb += Npy.numElements(base.shape(name)) * 4.0 / (1 << 20);
        if (out != null) {
            out.printf(Locale.ROOT, "[%d/%d] %s %s streamed (%.1f MB read, %.1f s)%n", done, total, name,
                    Arrays.toString(base.shape(name)), mb, (System.nanoTime() - t0) / 1e9);
        }
    }

    @Override
    public float[] floats(String name) {
        float[] v = base.floats(name);
        done++;
        mb += v.length * 4.0 / (1 << 20);
        if (out != null) {
            out.printf(Locale.ROOT, "[%d/%d] %s %s (%.1f MB read, %.1f s)%n", done, total, name,
                    Arrays.toString(base.shape(name)), mb, (System.nanoTime() - t0) / 1e9);
        }
        return v;
    }
}
