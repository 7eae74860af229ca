package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GraphBuilderTest {

    @Test
    void linearWithExternalWeightsRunsInOnnxRuntime(@TempDir Path dir) throws Exception {
        for (GraphBuilder.WeightType wt : GraphBuilder.WeightType.values()) {
            Path onnx = dir.resolve("lin-" + wt + ".onnx");
            try (GraphBuilder g = new GraphBuilder("lin", dir.resolve("lin-" + wt + ".onnx.data"), wt)) {
                int f = TensorProto.DataType.FLOAT_VALUE;
                String x = g.input("x", f, "N", 3L);
                String w = g.weight("/lin/weight_t", new float[] {1, 2, 3, 4, 5, 6}, 3, 2); // [in 3, out 2]
                String b = g.weightF32("/lin/bias", new float[] {0.5f, -1}, 2);
                if (wt == GraphBuilder.WeightType.FLOAT16) {
                    w = g.op("Cast", "/lin/weight_t/Cast", List.of(w), Map.of("to", (long) f));
                }
                String y = g.add("/lin/Add", g.matmul("/lin", x, w), b);
                g.outputAs(y, "y", f, "N", 2L);
                g.save(onnx, "test");
            }
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                 OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {1, 0, -1, 2, 2, 2}), new long[] {2, 3});
                 OrtSession.Result r = s.run(Map.of("x", x))) {
                float[][] y = (float[][]) r.get(0).getValue();
                // row 0: [1,0,-1] . cols -> (1-5, 2-6) = (-4, -4) + b
                assertEquals(-3.5f, y[0][0], 1e-6);
                assertEquals(-5f, y[0][1], 1e-6);
                assertEquals(2 * (1 + 3 + 5) + 0.5f, y[1][0], 1e-6);
                assertEquals(2 * (2 + 4 + 6) - 1f, y[1][1], 1e-6);
            }
        }
    }
}
