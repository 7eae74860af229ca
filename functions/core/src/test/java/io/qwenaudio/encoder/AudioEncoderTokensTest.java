package io.qwenaudio.encoder;

import io.qwenaudio.audio.FeatureExtractor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AudioEncoderTokensTest {

    /** transformers' _get_feat_extract_output_lengths, written out step by step on the conv and pool strides. */
    static int viaStrides(int melFrames) {
        int afterConv2 = Math.floorDiv(melFrames + 2 * 1 - 3, 2) + 1; // conv2: k3, s2, p1
        return Math.floorDiv(afterConv2 - 2, 2) + 1;                 // AvgPool1d(2, 2)
    }

    @Test
    void validTokensFollowTheConvAndPoolStrides() {
        assertEquals(750, AudioEncoder.validTokens(FeatureExtractor.FRAMES)); // a full 30 s window
        assertEquals(25, AudioEncoder.validTokens(100));                      // 1 s
        assertEquals(0, AudioEncoder.validTokens(2)); // under 20 ms of audio: no token at all
        assertEquals(1, AudioEncoder.validTokens(3));
        for (int m = 1; m <= 3000; m++) assertEquals(viaStrides(m), AudioEncoder.validTokens(m), "M=" + m);
    }
}
