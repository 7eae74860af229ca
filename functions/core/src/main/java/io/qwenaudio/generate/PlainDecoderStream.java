package io.qwenaudio.generate;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * The decoder stream through the Java API's {@code run}: the {@code present.*} tensors of a run's (still open)
 * {@link OrtSession.Result} are the next run's {@code past_key_values.*} inputs, and that result is closed only
 * after the next run. On the CPU no key or value is copied into Java; under CUDA the Java API returns every output
 * in host memory, so each step copies the cache device -> host -> device (what {@link BoundDecoderStream} avoids).
 */
final class PlainDecoderStream implements DecoderStream {

    private final Generator g;
    private final LongBuffer ones;                 // [S + max_new_tokens] of 1: the attention mask's storage
    private OrtSession.Result last;

    PlainDecoderStream(Generator g, int positions) {
        this.g = g;
        this.ones = Generator.directLongs(positions);
        for (int i = 0; i < positions; i++) ones.put(i, 1L);
    }

    @Override
    public float[] prefill(FloatBuffer embeds, int s) throws OrtException {
        last = g.prefill(embeds, s, ones, g.decodeOutputs());
        return Generator.logits(last);
    }

    @Override
    public float[] step(int id, int pos) throws OrtException {
        OrtSession.Result next = g.step(id, pos, last, ones);
        last.close();
        last = next;
        return Generator.logits(last);
    }

    @Override
    public void close() {
        if (last != null) last.close();
        last = null;
    }
}
