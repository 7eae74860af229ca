package io.qwenaudio.converter;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/** Test support for the audio-side parity tests: build a graph, run it in ONNX Runtime, compare to a reference. */
final class AudioParity {

    private AudioParity() {
    }

    /** Builds a graph into {@code dir} and returns the .onnx path. */
    static Path build(Path dir, String name, GraphBuilder.WeightType wt, Consumer<GraphBuilder> body) throws IOException {
        Path onnx = dir.resolve(name + ".onnx");
        try (GraphBuilder g = new GraphBuilder(name, dir.resolve(name + ".onnx.data"), wt)) {
            body.accept(g);
            g.save(onnx, "parity-test");
        }
        return onnx;
    }

    /** Runs a graph on float32 / int64 inputs ({@code float[]} or {@code long[]} with a shape) and returns every output flattened. */
    static Map<String, float[]> run(Path onnx, Map<String, Object[]> inputs) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
            for (Map.Entry<String, Object[]> e : inputs.entrySet()) {
                Object data = e.getValue()[0];
                long[] shape = (long[]) e.getValue()[1];
                feeds.put(e.getKey(), data instanceof float[] f
                        ? OnnxTensor.createTensor(env, FloatBuffer.wrap(f), shape)
                        : OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) data), shape));
            }
            try (OrtSession.Result r = s.run(feeds)) {
                Map<String, float[]> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : r) {
                    FloatBuffer b = ((OnnxTensor) e.getValue()).getFloatBuffer();
                    float[] a = new float[b.remaining()];
                    b.get(a);
                    out.put(e.getKey(), a);
                }
                return out;
            }
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    static Object[] in(Object data, long... shape) {
        return new Object[] {data, shape};
    }

    /** max |actual - expected| / max |expected| over {@code expected.length} values of {@code actual} from {@code offset}. */
    static float[] gaussian(int n, double std, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * r.nextGaussian());
        return a;
    }

    /** Writes a tiny checkpoint of a MakeTiny preset and returns its config. */
    static Qwen2AudioConfig tinyConfig(Path dir, String preset, long seed) throws IOException {
        return MakeTiny.write(dir, new MakeTiny.Options(MakeTiny.preset(preset), seed, null, null));
    }
}
