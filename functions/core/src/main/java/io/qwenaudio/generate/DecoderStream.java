package io.qwenaudio.generate;

import ai.onnxruntime.OrtException;

import java.nio.FloatBuffer;

/**
 * The decoder side of one generation: it holds the request's KV cache between runs (where the execution provider
 * put it) and hands back only the last position's logits. Made per request by {@link Generator}, used on one
 * thread, closed when the request ends (which releases the cache).
 */
interface DecoderStream extends AutoCloseable {

    /** Fills the cache from the prompt's embeddings {@code [S * H]}; returns the last position's logits {@code [V]}. */
    float[] prefill(FloatBuffer embeds, int promptLength) throws OrtException;

    /** Feeds token {@code id} at position {@code pos} (attending to the cache); returns its logits {@code [V]}. */
    float[] step(int id, int pos) throws OrtException;

    @Override
    void close() throws OrtException;
}
