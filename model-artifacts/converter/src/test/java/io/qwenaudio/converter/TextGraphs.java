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

    /** Writes the preset's tiny checkpoint config, builds the decoder graph and opens it on the CPU. */
    static TextGraphs decoder(Path dir, String preset, long seed, GraphBuilder.WeightType wt) throws Exception {
        Qwen2AudioConfig full = MakeTiny.write(dir.resolve("ckpt"), new MakeTiny.Options(MakeTiny.preset(preset), seed, null, null));
        TensorSource w = MakeTiny.weights(full, seed);
        Path onnx = dir.resolve("decoder-" + wt + ".onnx");
        try (GraphBuilder g = new GraphBuilder("decoder", dir.resolve("decoder-" + wt + ".onnx.data"), wt)) {
            DecoderGraph.build(g, full.text(), w);
            g.save(onnx, "test");
        }
        return new TextGraphs(full.text(), w, ENV.createSession(onnx.toString(), new OrtSession.SessionOptions()));
    }

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
                in.put("past_key_values." + i + ".key", OnnxTensor.createTensor(ENV, FloatBuffer.wrap(k), shape));
                in.put("past_key_values." + i + ".value", OnnxTensor.createTensor(ENV, FloatBuffer.wrap(v), shape));
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

    static float[] floats(OrtSession.Result r, String name) {
        FloatBuffer fb = ((OnnxTensor) r.get(name).orElseThrow(() -> new AssertionError("no output " + name))).getFloatBuffer();
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
