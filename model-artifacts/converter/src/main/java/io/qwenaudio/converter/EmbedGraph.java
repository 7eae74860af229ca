package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.qwenaudio.checkpoint.TensorSource;
import io.qwenaudio.checkpoint.TextConfig;

import java.util.List;
import java.util.Map;

/**
 * The token-embedding graph: {@code input_ids [B, S] int64 -> inputs_embeds [B, S, H] float32} (one Gather).
 * With {@link GraphBuilder.WeightType#FLOAT16} the table is stored as float16 and the gathered rows are cast to
 * float32 inside the graph.
 */
public final class EmbedGraph {

    private EmbedGraph() {
    }

    public static void build(GraphBuilder g, TextConfig cfg, TensorSource w) {
        int f32 = TensorProto.DataType.FLOAT_VALUE;
        long v = cfg.vocabSize(), h = cfg.hiddenSize();
        String ids = g.input("input_ids", TensorProto.DataType.INT64_VALUE, "batch", "sequence");
        w.requireShape("language_model.model.embed_tokens.weight", v, h);
        String table = g.weightStreamed("language_model.model.embed_tokens.weight", w,
                "language_model.model.embed_tokens.weight", v, h); // [V, H], streamed: 2.5 GB in fp32 for the real model
        String e = g.op("Gather", "/language_model/embed_tokens/Gather", List.of(table, ids), Map.of("axis", 0L)); // [B, S, H]
        if (g.weightType() == GraphBuilder.WeightType.FLOAT16) {
            e = g.op("Cast", "/language_model/embed_tokens/Cast", List.of(e), Map.of("to", (long) f32));
        }
        g.outputAs(e, "inputs_embeds", f32, "batch", "sequence", h);
    }
}
