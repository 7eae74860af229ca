package io.qwenaudio.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class SessionFactoryTest {

    @Test
    void cpuByDefault() {
        assertEquals("cpu", new SessionFactory(RuntimeOptions.defaults()).provider());
    }

    @Test
    void cudaWithoutCudaFailsNamingTheKeyUnlessFallbackIsSet() {
        assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "this machine has CUDA");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new SessionFactory(RuntimeOptions.defaults().withExecutionProvider(ExecutionProvider.CUDA)));
        assertTrue(e.getMessage().contains("qwen-audio.runtime.execution-provider=cuda"), e.getMessage());
        assertTrue(e.getMessage().contains("fallback-to-cpu"), e.getMessage());
        assertEquals("cpu", new SessionFactory(RuntimeOptions.defaults().withExecutionProvider(ExecutionProvider.CUDA)
                .withFallbackToCpu(true)).provider());
    }

    @Test
    void badOptionsNameTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ExecutionProvider.parse("tpu"));
        assertEquals("qwen-audio.runtime.execution-provider: 'tpu' is not supported; accepted: cpu, cuda", e.getMessage());
        assertEquals(ExecutionProvider.CUDA, ExecutionProvider.parse(" CUDA"));
        e = assertThrows(IllegalArgumentException.class,
                () -> RuntimeOptions.defaults().withIntraOpThreads(-1).validate());
        assertTrue(e.getMessage().startsWith("qwen-audio.runtime.intra-op-threads"), e.getMessage());
    }
}
