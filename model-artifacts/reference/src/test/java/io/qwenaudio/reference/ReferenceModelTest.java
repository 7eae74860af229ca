package io.qwenaudio.reference;

import io.qwenaudio.checkpoint.InMemoryTensorSource;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Splicing audio rows at the placeholders and greedy decoding of the whole reference chain. */
class ReferenceModelTest {

    private static final int A = TinyModels.AUDIO_TOKEN;

    @Test
    void audioRowsReplacePlaceholdersInOrder() {
        Qwen2AudioConfig cfg = TinyModels.odd();
        ReferenceModel model = new ReferenceModel(cfg, TinyModels.weights(cfg, 12));
        int h = cfg.text().hiddenSize(), n = 3;
        int[] ids = {5, 6, A, A, A, 7};
        float[] audio = TinyModels.gaussian(n * h, 1, 13);
        float[] x = model.inputsEmbeds(ids, audio, n);
        float[] text = model.decoder().embed(new int[] {5, 6, 7});
        assertArrayEquals(Arrays.copyOfRange(text, 0, 2 * h), Arrays.copyOfRange(x, 0, 2 * h));
        assertArrayEquals(audio, Arrays.copyOfRange(x, 2 * h, 5 * h));
        assertArrayEquals(Arrays.copyOfRange(text, 2 * h, 3 * h), Arrays.copyOfRange(x, 5 * h, 6 * h));
        assertThrows(IllegalArgumentException.class, () -> model.inputsEmbeds(ids, audio, 2));
        assertThrows(IllegalArgumentException.class, () -> model.inputsEmbeds(new int[] {5, A, A, 7}, audio, n));
    }

    @Test
    void greedyThroughTheCacheEqualsArgmaxOfFullRecomputes() {
        Qwen2AudioConfig cfg = TinyModels.odd();
        InMemoryTensorSource w = TinyModels.weights(cfg, 14);
        ReferenceModel model = new ReferenceModel(cfg, w);
        int m = 200, n = ReferenceEncoder.validTokens(m), h = cfg.text().hiddenSize();
        float[] audio = model.audioFeatures(TinyModels.features(cfg.audio().numMelBins(), m, 15), m);
        assertEquals(n * h, audio.length);
        int[] prompt = new int[n + 4];
        prompt[0] = 10;
        prompt[1] = 11;
        Arrays.fill(prompt, 2, 2 + n, A);
        prompt[n + 2] = 12;
        prompt[n + 3] = 13;
        int steps = 6;
        int[] got = model.greedy(prompt, audio, n, steps, new int[0]);
        assertEquals(steps, got.length);

        ReferenceDecoder dec = model.decoder();
        float[] x = model.inputsEmbeds(prompt, audio, n);
        int s = prompt.length;
        int[] want = new int[steps];
        for (int k = 0; k < steps; k++) {
            want[k] = TextMath.argmax(dec.forward(x, s).lastLogits());
            x = Arrays.copyOf(x, (s + 1) * h);
            System.arraycopy(dec.embed(new int[] {want[k]}), 0, x, s * h, h);
            s++;
        }
        assertArrayEquals(want, got);
        int[] stopped = model.greedy(prompt, audio, n, steps, new int[] {want[1]});
        assertTrue(stopped.length <= 2 && stopped[stopped.length - 1] == want[1]);
    }
}
