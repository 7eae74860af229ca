package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Node counts of an ONNX graph as written and as ONNX Runtime runs it: the graph its optimiser (level ALL, the
 * level serving uses) makes at session creation, saved with {@code setOptimizedModelFilePath} (initializers to an
 * external file, so a multi-GB model stays readable) and read back.
 */
public final class GraphStats {

    /** Nodes in total and per op type ({@code domain:Op} for non-default domains), sorted by op. */
    public record Counts(int nodes, Map<String, Integer> ops) {
        public int count(String op) {
            return ops.getOrDefault(op, 0);
        }
    }

    private GraphStats() {
    }

    /** The graph as written (the {@code .onnx} file; external weight data is not read). */
    public static Counts written(Path onnx) throws IOException {
        try (InputStream in = Files.newInputStream(onnx)) {
            return counts(ModelProto.parseFrom(in));
        }
    }

    /** The graph after ONNX Runtime's optimiser at level ALL on the CPU; {@code scratch} receives the optimised copy. */
    public static Counts optimized(Path onnx, Path scratch) throws IOException, OrtException {
        Files.createDirectories(scratch);
        Path out = scratch.resolve(onnx.getFileName().toString().replace(".onnx", "") + ".optimized.onnx");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.setOptimizedModelFilePath(out.toString());
            o.addConfigEntry("session.optimized_model_external_initializers_file_name", out.getFileName() + ".data");
            o.addConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
            try (OrtSession s = OrtEnvironment.getEnvironment().createSession(onnx.toString(), o)) {
                // created only to run the optimiser
            }
        }
        try (InputStream in = Files.newInputStream(out)) {
            return counts(ModelProto.parseFrom(in));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(out.resolveSibling(out.getFileName() + ".data"));
        }
    }

    private static Counts counts(ModelProto m) {
        Map<String, Integer> ops = new TreeMap<>();
        for (NodeProto n : m.getGraph().getNodeList()) {
            String op = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx") ? n.getOpType() : n.getDomain() + ":" + n.getOpType();
            ops.merge(op, 1, Integer::sum);
        }
        return new Counts(m.getGraph().getNodeCount(), ops);
    }
}
