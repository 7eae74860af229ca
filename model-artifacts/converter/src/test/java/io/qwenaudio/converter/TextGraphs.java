package io.qwenaudio.converter;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.checkpoint.MakeTiny;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test support: a tiny model, its decoder graph in an ORT CPU session, and error measures. */
final class TextGraphs implements AutoCloseable {

    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    final TextConfig cfg;
    final TensorSource weights;
    final OrtSession session;

    private TextGraphs(TextConfig cfg, TensorSource weights, OrtSession session) {
        this.cfg = cfg;
        this.weights = weights;
        this.session = session;
    }

    /** Writes the preset's tiny checkpoint config, builds the standard decoder graph and opens it on the CPU. */
    static TextGraphs decoder(Path dir, String preset, long seed, GraphBuilder.WeightType wt) throws Exception {
        return decoder(dir, MakeTiny.preset(preset), seed, GraphOps.STANDARD, Dtype.of(wt));
    }

    /** The decoder graph of a preset in the given op set and dtype, opened on the CPU. */
    static TextGraphs decoder(Path dir, String preset, long seed, GraphOps ops, Dtype dtype) throws Exception {
        return decoder(dir, MakeTiny.preset(preset), seed, ops, dtype);
    }

    static TextGraphs decoder(Path dir, MakeTiny.Preset preset, long seed, GraphOps ops, Dtype dtype) throws Exception {
        Qwen2AudioConfig full = MakeTiny.write(dir.resolve("ckpt"), new MakeTiny.Options(preset, seed, null, null));
        TensorSource w = MakeTiny.weights(full, seed);
        String name = "decoder-" + ops.label() + "-" + dtype.label();
        Path onnx = dir.resolve(name + ".onnx");
        try (GraphBuilder g = new GraphBuilder("decoder", dir.resolve(name + ".onnx.data"), dtype.weightType())) {
            DecoderGraph.build(g, full.text(), w, ops, dtype);
            g.save(onnx, "test");
            lastOps = g.contribOps();
            lastNodes = g.nodeCount();
        }
        return new TextGraphs(full.text(), w, ENV.createSession(onnx.toString(), new OrtSession.SessionOptions()));
    }

    /** Non-standard ops and node count of the graph built last (test diagnostics). */
    static java.util.List<String> lastOps;
    static int lastNodes;

    /** Decoder outputs of one run, flattened row-major. */
    record Out(float[] logits, float[][] hidden, float[][] presentK, float[][] presentV, int total) {
    }

    /**
     * One run with batch b: embeds [B*S*H], mask [B*T], positions [B*S], past [layer][B*kvH*P*D] (null for P = 0).
     */
    Out run(int b, int s, float[] embeds, long[] mask, long[] positions, float[][] pastK, float[][] pastV) throws OrtException {
        int t = mask.length / b, p = t - s, kvH = cfg.numKeyValueHeads(), d = cfg.headDim(), L = cfg.numHiddenLayers();
        Map<String, OnnxTensor> in = new LinkedHashMap<>();
        try {
            in.put("inputs_embeds", OnnxTensor.createTensor(ENV, FloatBuffer.wrap(embeds), new long[] {b, s, cfg.hiddenSize()}));
            in.put("attention_mask", OnnxTensor.createTensor(ENV, LongBuffer.wrap(mask), new long[] {b, t}));
            in.put("position_ids", OnnxTensor.createTensor(ENV, LongBuffer.wrap(positions), new long[] {b, s}));
            for (int i = 0; i < L; i++) {
                float[] k = pastK == null ? new float[0] : pastK[i], v = pastV == null ? new float[0] : pastV[i];
                long[] shape = {b, kvH, p, d};
                in.put("past_key_values." + i + ".key", kvTensor(k, shape));
                in.put("past_key_values." + i + ".value", kvTensor(v, shape));
            }
            try (OrtSession.Result r = session.run(new HashMap<>(in))) {
                float[][] hidden = new float[L + 1][];
                for (int i = 0; i <= L; i++) hidden[i] = floats(r, "hidden_states." + i);
                float[][] pk = new float[L][], pv = new float[L][];
                for (int i = 0; i < L; i++) {
                    pk[i] = floats(r, "present." + i + ".key");
                    pv[i] = floats(r, "present." + i + ".value");
                }
                return new Out(floats(r, "logits"), hidden, pk, pv, t);
            }
        } finally {
            for (OnnxTensor x : in.values()) x.close();
        }
    }

    /** A KV tensor in the element type the session declares for the past inputs (float32 or float16). */
    private OnnxTensor kvTensor(float[] values, long[] shape) throws OrtException {
        if (kvType() == ai.onnxruntime.OnnxJavaType.FLOAT16) {
            java.nio.ShortBuffer sb = java.nio.ShortBuffer.allocate(values.length);
            for (float f : values) sb.put(ai.onnxruntime.platform.Fp16Conversions.floatToFp16(f));
            sb.flip();
            return OnnxTensor.createTensor(ENV, sb, shape, ai.onnxruntime.OnnxJavaType.FLOAT16);
        }
        return OnnxTensor.createTensor(ENV, FloatBuffer.wrap(values), shape);
    }

    ai.onnxruntime.OnnxJavaType kvType() throws OrtException {
        return ((ai.onnxruntime.TensorInfo) session.getInputInfo().get("past_key_values.0.key").getInfo()).type;
    }

    static float[] floats(OrtSession.Result r, String name) {
        OnnxTensor tensor = (OnnxTensor) r.get(name).orElseThrow(() -> new AssertionError("no output " + name));
        if (tensor.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT16) {
            java.nio.ShortBuffer sb = tensor.getShortBuffer();
            float[] a = new float[sb.remaining()];
            for (int i = 0; i < a.length; i++) a[i] = ai.onnxruntime.platform.Fp16Conversions.fp16ToFloat(sb.get(i));
            return a;
        }
        FloatBuffer fb = tensor.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    static long[] ones(int n) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }

    static long[] range(long from, int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = from + i;
        return a;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
