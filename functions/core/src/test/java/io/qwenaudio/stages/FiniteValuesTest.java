package io.qwenaudio.stages;

import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Non-finite tensors are refused with 422 and the first bad index; the adapt stage checks on every path. */
class FiniteValuesTest {

    @Test
    void firstBadValueIsNamedWithItsIndex() {
        FloatTensor ok = FloatTensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertSame(ok, FiniteValues.require("hidden", ok));
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] d = {1, 2, 3, 4, bad, bad};
            StageException e = assertThrows(StageException.class, () -> FiniteValues.require("hidden", FloatTensor.of(d, 2, 3)));
            assertEquals(422, e.status());
            assertEquals("non_finite_values", e.code());
            assertEquals("hidden: value " + bad + " at index [1, 1] is not a finite number; send finite float32/float16 "
                    + "values only", e.getMessage());
        }
    }

    @Test
    void adaptStageRejectsNaNOnThePassThroughPathAsA422() throws Exception {
        TensorCodec codec = new TensorCodec(null, 1 << 20, false);
        float[] d = new float[4 * 8];
        d[13] = Float.NaN;
        Wire.EncodedAudio in = new Wire.EncodedAudio("r1", null, codec.encode(FloatTensor.of(d, 4, 8)), 1, 1.0, null, null, null);
        try (AdaptStage stage = new AdaptStage(Map.of(), codec, 8)) {
            Throwable e = assertThrows(StageException.class, () -> stage.adapt(in));
            var f = Failures.describe("adapt", e, "r1", null);
            assertEquals(422, f.status());
            assertEquals("hidden: value NaN at index [1, 5] is not a finite number; send finite float32/float16 values only",
                    f.message());
            assertThrows(StageException.class, () -> stage.adapt("none", FloatTensor.of(d, 4, 8)));
        }
    }
}
