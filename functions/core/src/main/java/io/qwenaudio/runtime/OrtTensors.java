package io.qwenaudio.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.tensor.FloatTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Runs a one-input float graph: a {@link FloatTensor} in (zero-copy direct buffer), named float outputs back. */
public final class OrtTensors {
    private OrtTensors() {
    }

    public static Map<String, FloatTensor> run(OrtEnvironment env, OrtSession session, String input, FloatTensor x)
            throws OrtException {
        FloatBuffer buf = ByteBuffer.allocateDirect(x.data().length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer().put(x.data());
        buf.rewind();
        try (OnnxTensor t = OnnxTensor.createTensor(env, buf, x.shape());
             OrtSession.Result r = session.run(Map.of(input, t))) {
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxValue> e : r) {
                OnnxTensor o = (OnnxTensor) e.getValue();
                FloatBuffer fb = o.getFloatBuffer();
                float[] a = new float[fb.remaining()];
                fb.get(a);
                out.put(e.getKey(), FloatTensor.of(a, o.getInfo().getShape()));
            }
            return out;
        }
    }
}
