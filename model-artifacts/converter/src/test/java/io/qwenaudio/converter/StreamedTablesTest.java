package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.SafetensorsFile;
import io.qwenaudio.checkpoint.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedding table and lm_head (2.5 GB each in float32 for the real model) must reach the graphs by streaming,
 * never as one array: a source that refuses whole-tensor reads of them still converts.
 */
class StreamedTablesTest {

    static final Set<String> BIG = Set.of("language_model.model.embed_tokens.weight", "language_model.lm_head.weight");

    @Test
    void embeddingAndLmHeadAreStreamed(@TempDir Path tmp) throws Exception {
        Qwen2AudioConfig cfg = MakeTiny.write(tmp.resolve("ck"), MakeTiny.Options.tiny(3));
        TensorSource all = MakeTiny.weights(cfg, 3);
        int[] streamed = {0};
        TensorSource noWholeReads = new TensorSource() {
            public Set<String> names() {
                return all.names();
            }

            public long[] shape(String n) {
                return all.shape(n);
            }

            public String dtype(String n) {
                return all.dtype(n);
            }

            public float[] floats(String n) {
                if (BIG.contains(n)) throw new AssertionError(n + " was read whole");
                return all.floats(n);
            }

            public void streamFloats(String n, int chunk, SafetensorsFile.FloatChunkConsumer c) {
                if (BIG.contains(n)) streamed[0]++;
                float[] v = all.floats(n);
                float[] buf = new float[Math.min(chunk, 1000)];
                for (int from = 0; from < v.length; from += buf.length) {
                    int k = Math.min(buf.length, v.length - from);
                    System.arraycopy(v, from, buf, 0, k);
                    c.accept(buf, from, k);
                }
            }
        };
        AudioParity.build(tmp, "embed", GraphBuilder.WeightType.FLOAT32, g -> EmbedGraph.build(g, cfg.text(), noWholeReads));
        AudioParity.build(tmp, "decoder", GraphBuilder.WeightType.FLOAT16, g -> DecoderGraph.build(g, cfg.text(), noWholeReads));
        assertTrue(streamed[0] == 2, "expected both tables streamed, got " + streamed[0]);
    }
}
