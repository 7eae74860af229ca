package io.qwenaudio.diagnostics;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Block averaging of maps and curves: exact cells, sizes, the f32 encoding and the overall mean kept. */
class HeatMapTest {

    @Test
    void aMapThatFitsIsSentAsItIs() {
        float[] src = {1, 2, 3, 4, 5, 6};                                                  // [2, 3]
        HeatMap m = HeatMap.of(src, 2, 3, 8, 8);
        assertEquals(2, m.rows());
        assertEquals(3, m.cols());
        assertArrayEquals(src, m.values());
        assertEquals(1f, m.min());
        assertEquals(6f, m.max());
    }

    @Test
    void cellsAreTheMeansOfTheirBlocks() {
        float[] src = new float[4 * 6];                                                    // [4, 6]
        for (int i = 0; i < src.length; i++) src[i] = i;
        HeatMap m = HeatMap.of(src, 4, 6, 2, 3);
        assertEquals(4, m.sourceRows());
        assertEquals(6, m.sourceCols());
        // cell (0, 0): rows 0-1, cols 0-1 -> 0, 1, 6, 7
        assertArrayEquals(new float[] {3.5f, 5.5f, 7.5f, 15.5f, 17.5f, 19.5f}, m.values());
    }

    @Test
    void unevenBlocksKeepEveryValueOnceAndTheOffsetIsHonoured() {
        Random r = new Random(3);
        int rows = 37, cols = 1001;
        float[] src = new float[5 + rows * cols];
        for (int i = 5; i < src.length; i++) src[i] = r.nextFloat();
        HeatMap m = HeatMap.of(src, 5, rows, cols, 10, 64);
        assertEquals(10, m.rows());
        assertEquals(64, m.cols());
        // the size-weighted mean of the cells is the mean of the source
        int[] re = HeatMap.bounds(rows, 10), ce = HeatMap.bounds(cols, 64);
        double weighted = 0, plain = 0;
        float[] v = m.values();
        for (int i = 0; i < 10; i++) {
            for (int j = 0; j < 64; j++) weighted += v[i * 64 + j] * (double) (re[i + 1] - re[i]) * (ce[j + 1] - ce[j]);
        }
        for (int i = 5; i < src.length; i++) plain += src[i];
        assertEquals(plain / (rows * cols), weighted / (rows * cols), 1e-6);
    }

    @Test
    void theEncodingIsFloat32LittleEndian() {
        HeatMap m = HeatMap.of(new float[] {1f}, 1, 1, 1, 1);
        assertEquals("AACAPw==", m.f32()); // 0x3f800000 little-endian
    }

    @Test
    void limitsNameTheBadSetting() {
        DiagnosticsLimits d = DiagnosticsLimits.DEFAULT;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DiagnosticsLimits(d.melCells(),
                d.melColumns(), d.encoderTokens(), d.encoderChannels(), d.seriesPoints(), 0, d.attentionTokens(),
                d.hiddenStatePositions(), d.hiddenStateColumns()).validate());
        assertEquals("attention-side must be >= 1, got 0", e.getMessage());
        assertEquals(d, d.validate());
    }

    @Test
    void aCurveIsAveragedOverEqualBins() {
        float[] src = new float[10];
        for (int i = 0; i < 10; i++) src[i] = i;
        Series s = Series.of(src, 4);
        assertEquals(10, s.sourceLength());
        // bins [0,2) [2,5) [5,7) [7,10)
        assertArrayEquals(new float[] {0.5f, 3f, 5.5f, 8f}, s.values());
        assertArrayEquals(src, Series.of(src, 10).values());
        assertThrows(IllegalArgumentException.class, () -> Series.of(src, 0));
        assertThrows(IllegalArgumentException.class, () -> HeatMap.of(src, 3, 4, 2, 2));
    }
}
