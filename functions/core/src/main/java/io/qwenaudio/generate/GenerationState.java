package io.qwenaudio.generate;

import ai.onnxruntime.OrtException;
import io.qwenaudio.text.PromptBuilder.Prompt;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * One request's generation: the sampler, the text assembler, the ids so far and the {@link DecoderStream} holding
 * the KV cache. Cheap to make (the model is the shared {@link Generator}); used on one thread; {@link #close()}
 * releases the cache and the native objects of the stream.
 */
final class GenerationState implements AutoCloseable {

    private final GenerationOptions o;
    private final TokenListener listener;
    private final int promptLength;
    private final long t0;
    private final Set<Integer> stopIds;
    private final Sampler sampler;
    private final TextAssembler text;
    private final DecoderStream stream;

    GenerationState(Generator model, Prompt prompt, GenerationOptions o, TokenListener listener, long t0)
            throws OrtException {
        this.o = o;
        this.listener = listener;
        this.promptLength = prompt.length();
        this.t0 = t0;
        this.stopIds = new HashSet<>(o.stopTokenIds());
        this.sampler = new Sampler(o);
        sampler.observe(prompt.ids());
        this.text = new TextAssembler(model.tokenizer(), o.stopStrings());
        this.stream = model.openStream(promptLength + o.maxNewTokens());
    }

    /** Prefill on the prompt's embeddings {@code [S * H]}, then one step per token until a finish reason. */
    Generation run(FloatBuffer promptEmbeds) throws OrtException {
        StringBuilder out = new StringBuilder();
        int[] ids = new int[o.maxNewTokens()];
        int n = 0;
        Generation.FinishReason reason = null;
        long tFirst = 0;
        int pos = promptLength;
        float[] logits = stream.prefill(promptEmbeds, promptLength);
        while (true) {
            if (listener != null) listener.onLogits(logits);
            int id = sampler.next(logits);                  // logits [V] of the last position
            sampler.observe(id);
            ids[n++] = id;
            if (n == 1) tFirst = System.nanoTime();
            String piece;
            if (stopIds.contains(id)) {
                piece = text.finish();
                reason = Generation.FinishReason.STOP;
            } else {
                // an id the tokenizer does not know (the embedding rows beyond the vocabulary) adds no text and
                // generation goes on, as transformers' decode skips it
                piece = text.push(id);
                if (!text.stopped() && n == o.maxNewTokens()) {
                    piece += text.finish();
                    if (!text.stopped()) reason = Generation.FinishReason.LENGTH;
                }
                if (text.stopped()) reason = Generation.FinishReason.STOP;
            }
            out.append(piece);
            if (listener != null && !listener.onToken(id, piece) && reason == null) {
                reason = Generation.FinishReason.CANCELLED;
            }
            if (reason != null) break;
            logits = stream.step(id, pos++);
        }
        long tLast = System.nanoTime();
        double decodeSeconds = (tLast - tFirst) / 1e9;
        return new Generation(Arrays.copyOf(ids, n), out.toString(), reason, promptLength, (tFirst - t0) / 1e6,
                n > 1 && decodeSeconds > 0 ? (n - 1) / decodeSeconds : 0, (tLast - t0) / 1e6);
    }

    @Override
    public void close() throws OrtException {
        stream.close();
    }
}
