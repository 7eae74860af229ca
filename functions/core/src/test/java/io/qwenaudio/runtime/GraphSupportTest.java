package io.qwenaudio.runtime;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GraphSupportTest {

    private static Manifest.GraphSpec spec(String dtype, List<String> ops) {
        return new Manifest.GraphSpec("decoder.onnx", "decoder.onnx.data", List.of(), List.of(), dtype, "fused", ops);
    }

    @Test
    void fusedOpsRunOnThisRuntimeAndOldManifestsNeedNothing() {
        assertDoesNotThrow(() -> GraphSupport.require("decoder.onnx", spec("int4", List.of("SimplifiedLayerNormalization",
                "com.microsoft:GroupQueryAttention", "com.microsoft:MatMulNBits",
                "com.microsoft:SkipSimplifiedLayerNormalization")), "1.29.0", "cpu"));
        assertDoesNotThrow(() -> GraphSupport.require("decoder.onnx",
                new Manifest.GraphSpec("decoder.onnx", null, List.of(), List.of()), "1.29.0", "cpu"));
    }

    @Test
    void unknownOpOldRuntimeAndBf16OnCpuAreRefusedNamingGraphAndOp() {
        ArtifactsException e = assertThrows(ArtifactsException.class, () -> GraphSupport.require("decoder.onnx",
                spec("fp32", List.of("com.microsoft:PagedAttention")), "1.29.0", "cpu"));
        assertTrue(e.getMessage().contains("decoder.onnx") && e.getMessage().contains("com.microsoft:PagedAttention")
                && e.getMessage().contains("--graph-ops standard"), e.getMessage());
        e = assertThrows(ArtifactsException.class, () -> GraphSupport.require("decoder.onnx",
                spec("fp32", List.of("com.microsoft:GroupQueryAttention")), "1.16.3", "cpu"));
        assertTrue(e.getMessage().contains("com.microsoft:GroupQueryAttention") && e.getMessage().contains("1.16.3"), e.getMessage());
        e = assertThrows(ArtifactsException.class, () -> GraphSupport.require("decoder.onnx", spec("bf16", List.of()), "1.29.0", "cpu"));
        assertTrue(e.getMessage().contains("bf16") && e.getMessage().contains("CUDA"), e.getMessage());
        assertDoesNotThrow(() -> GraphSupport.require("decoder.onnx", spec("bf16", List.of()), "1.29.0", "cuda:0"));
    }

    @Test
    void runtimeNoKernelMessagesAreReworded() {
        String msg = "Error code - ORT_NOT_IMPLEMENTED - message: Could not find an implementation for "
                + "GroupQueryAttention(1) node with name '/language_model/layers.0/self_attn/GroupQueryAttention'";
        String why = GraphSupport.explain("decoder.onnx", msg, "cpu");
        assertEquals("graph decoder.onnx needs op GroupQueryAttention (opset 1, node "
                + "'/language_model/layers.0/self_attn/GroupQueryAttention'), which the installed ONNX Runtime cannot run on "
                + "cpu in this dtype; convert the checkpoint again with --graph-ops standard (or another --dtype)", why);
        assertNull(GraphSupport.explain("decoder.onnx", "some other failure", "cpu"));
    }
}
