package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.Arrays;

/**
 * The whole Qwen2-Audio chain on the naive reference forwards, for greedy decoding tests: audio features are
 * spliced into the token embeddings at the {@code audio_token_index} positions (transformers
 * {@code inputs_embeds.masked_scatter(special_audio_mask, audio_features)}: the placeholders take the audio rows
 * in order), then the decoder runs a prefill and argmax steps through its KV cache.
 *
 * <p>The encoder and projector are built on first use, so a source holding only language-model weights is
 * enough for {@link #greedy}.
 */
public final class ReferenceModel {

    private final Qwen2AudioConfig cfg;
    private final TensorSource w;
    private final ReferenceDecoder decoder;
    private ReferenceEncoder encoder;
    private ReferenceProjector projector;

    public ReferenceModel(Qwen2AudioConfig cfg, TensorSource w) {
        this.cfg = cfg;
        this.w = w;
        this.decoder = new ReferenceDecoder(cfg.text(), w);
    }

    public ReferenceDecoder decoder() {
        return decoder;
    }

    /**
     * Encoder + projector for one window: features [numMelBins, 3000] -> projected valid audio rows
     * [N, hidden] with {@code N = ReferenceEncoder.validTokens(melLength)}.
     */
    public synchronized float[] audioFeatures(float[] features, int melLength) {
        if (encoder == null) encoder = new ReferenceEncoder(cfg.audio(), w);
        if (projector == null) projector = new ReferenceProjector(w);
        int n = ReferenceEncoder.validTokens(melLength), d = cfg.audio().dModel();
        float[] last = encoder.forward(features, melLength);                          // [750, d]
        return projector.forward(Arrays.copyOf(last, n * d), n);                      // [N, hidden]
    }

    /**
     * Token embeddings of {@code promptIds} with the rows of {@code audioFeatures} ([n, hidden]) written at the
     * audio placeholder positions, in order. The prompt must already be expanded: exactly {@code n} placeholders.
     */
    public float[] inputsEmbeds(int[] promptIds, float[] audioFeatures, int n) {
        int h = cfg.text().hiddenSize(), audioId = cfg.audioTokenIndex();
        long placeholders = Arrays.stream(promptIds).filter(id -> id == audioId).count();
        if (placeholders != n) {
            throw new IllegalArgumentException("the prompt holds " + placeholders + " audio placeholders (id " + audioId
                    + ") but " + n + " audio rows were given; expand <|AUDIO|> to exactly one position per audio row");
        }
        if (audioFeatures == null ? n != 0 : audioFeatures.length != n * h) {
            throw new IllegalArgumentException("audio features must be [" + n + ", " + h + "] = " + n * h
                    + " values, found " + (audioFeatures == null ? "none" : audioFeatures.length));
        }
        float[] x = decoder.embed(promptIds);                                         // [S, H]
        int row = 0;
        for (int s = 0; s < promptIds.length; s++) {
            if (promptIds[s] == audioId) System.arraycopy(audioFeatures, h * row++, x, s * h, h);
        }
        return x;
    }

    /**
     * Greedy decoding: prefill over the spliced prompt, then argmax steps through the KV cache; stops after
     * {@code maxNewTokens} or after emitting a stop id (the stop id is included in the result).
     */
    public int[] greedy(int[] promptIds, float[] audioFeatures, int n, int maxNewTokens, int[] stopIds) {
        return decoder.greedy(inputsEmbeds(promptIds, audioFeatures, n), promptIds.length, maxNewTokens, stopIds);
    }
}
