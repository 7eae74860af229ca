package io.qwenaudio.converter;

import io.qwenaudio.reference.Parity;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.reference.ReferenceDecoder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedding graph against the reference token embeddings, for both weight types. */
class EmbedGraphTest {

    @ParameterizedTest
    @EnumSource(GraphBuilder.WeightType.class)
    void gatherMatchesReferenceEmbeddings(GraphBuilder.WeightType wt, @TempDir Path dir) throws Exception {
        Qwen2AudioConfig full = MakeTiny.write(dir.resolve("ckpt"), MakeTiny.Options.tiny(3));
        TensorSource w = MakeTiny.weights(full, 3);
        Path onnx = dir.resolve("embed.onnx");
        try (GraphBuilder g = new GraphBuilder("embed", dir.resolve("embed.onnx.data"), wt)) {
            EmbedGraph.build(g, full.text(), w);
            g.save(onnx, "test");
        }
        int v = full.text().vocabSize();
        int[] ids = {0, 5, v - 1, 17, 5, 2}; // [2, 3]
        long[] idsL = new long[ids.length];
        for (int i = 0; i < ids.length; i++) idsL[i] = ids[i];
        float[] want = new ReferenceDecoder(full.text(), w).embed(ids);
        try (OrtSession s = TextGraphs.ENV.createSession(onnx.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(TextGraphs.ENV, LongBuffer.wrap(idsL), new long[] {2, 3});
             OrtSession.Result r = s.run(Map.of("input_ids", in))) {
            float[] got = TextGraphs.floats(r, "inputs_embeds");
            if (wt == GraphBuilder.WeightType.FLOAT32) {
                assertArrayEquals(want, got);
            } else {
                double e = Parity.relError(want, got);
                System.out.printf("embed fp16 rel err %.3e%n", e);
                // a lookup of rounded weights: at most 2^-11 (4.9e-4) relative per element; measured 2.2e-4
                assertTrue(e <= 4.9e-4, "fp16 embedding rel err " + e);
            }
        }
    }
}
