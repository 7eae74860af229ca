package io.qwenaudio.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.artifacts.Manifest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Defaults from generation_config.json and the one-line range messages. */
class GenerationOptionsTest {

    static Manifest manifest(String generationJson) throws Exception {
        return new Manifest(1, "test", "qwen2_audio", "float32", null, null,
                new Manifest.SpecialTokens(151646, 151647, 151648, 151644, 151645, 151643, List.of(151645, 151643)),
                generationJson == null ? null : new ObjectMapper().readTree(generationJson), null, null, null, null, null, null);
    }

    @Test
    void defaultsComeFromTheGenerationConfig() throws Exception {
        GenerationOptions o = GenerationOptions.defaults(manifest(
                "{\"do_sample\":true,\"temperature\":0.7,\"top_k\":20,\"top_p\":0.5,\"repetition_penalty\":1.1,\"eos_token_id\":[151645,151643]}"));
        assertTrue(o.doSample());
        assertEquals(0.7, o.temperature());
        assertEquals(20, o.topK());
        assertEquals(0.5, o.topP());
        assertEquals(1.1, o.repetitionPenalty());
        assertEquals(GenerationOptions.DEFAULT_MAX_NEW_TOKENS, o.maxNewTokens());
        assertEquals(List.of(151645, 151643), o.stopTokenIds());
        assertEquals(o, o.validate());
        assertFalse(o.isGreedy());
        assertTrue(o.withGreedy().isGreedy());
        assertTrue(o.withSampling(0, 20, 0.5).isGreedy());
    }

    @Test
    void withoutAGenerationConfigTheTransformersDefaultsApply() throws Exception {
        GenerationOptions o = GenerationOptions.defaults(manifest(null));
        assertFalse(o.doSample());
        assertEquals(1.0, o.temperature());
        assertEquals(50, o.topK());
        assertEquals(1.0, o.topP());
        assertEquals(1.0, o.repetitionPenalty());
        assertEquals(List.of(151645, 151643), o.stopTokenIds());
        assertEquals(100, GenerationOptions.defaults(manifest("{\"max_new_tokens\":100}")).maxNewTokens());
    }

    @Test
    void outOfRangeValuesGiveOneLineMessages() throws Exception {
        GenerationOptions o = GenerationOptions.defaults(manifest(null));
        assertEquals("temperature must be >= 0 and finite, got -1.0",
                assertThrows(InvalidGenerationException.class, () -> o.withSampling(-1, 0, 1).validate()).getMessage());
        assertEquals("temperature must be >= 0 and finite, got NaN",
                assertThrows(InvalidGenerationException.class, () -> o.withSampling(Double.NaN, 0, 1).validate()).getMessage());
        assertEquals("top_p must be in (0, 1], got 1.5",
                assertThrows(InvalidGenerationException.class, () -> o.withSampling(1, 0, 1.5).validate()).getMessage());
        assertEquals("top_k must be >= 0 (0 = no limit), got -1",
                assertThrows(InvalidGenerationException.class, () -> o.withSampling(1, -1, 1).validate()).getMessage());
        assertEquals("repetition_penalty must be > 0 and finite (1 = none), got -0.5",
                assertThrows(InvalidGenerationException.class, () -> o.withRepetitionPenalty(-0.5).validate()).getMessage());
        assertEquals("max_new_tokens must be >= 1, got -3",
                assertThrows(InvalidGenerationException.class, () -> o.withMaxNewTokens(-3).validate()).getMessage());
        assertEquals("stop token ids must be >= 0, got -7",
                assertThrows(InvalidGenerationException.class, () -> o.withStopTokenIds(List.of(-7)).validate()).getMessage());
        assertTrue(new InvalidGenerationException("x") instanceof IllegalArgumentException);
    }
}
