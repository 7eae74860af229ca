package io.qwenaudio.diagnostics;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * A 2-D map of {@code [rows, cols]} values, block-averaged from a {@code [sourceRows, sourceCols]} source so that a
 * page can draw it without the server sending the source. {@code f32} is base64 of the values as float32
 * little-endian, row-major; {@code min} and {@code max} are over the values sent (for the colour scale).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record HeatMap(int rows, int cols, int sourceRows, int sourceCols, float min, float max, String f32) {

    /**
     * {@code src [rows, cols]} (row-major, starting at {@code offset}) block-averaged to at most
     * {@code [maxRows, maxCols]}: output cell (i, j) is the mean of source rows {@code [i*rows/R, (i+1)*rows/R)} and
     * columns {@code [j*cols/C, (j+1)*cols/C)}. A source that fits is sent as it is.
     */
    public static HeatMap of(float[] src, int offset, int rows, int cols, int maxRows, int maxCols) {
        if (maxRows < 1 || maxCols < 1) throw new IllegalArgumentException("maxRows and maxCols must be >= 1");
        if ((long) offset + (long) rows * cols > src.length) {
            throw new IllegalArgumentException("[" + rows + ", " + cols + "] at " + offset + " is outside " + src.length + " values");
        }
        int r = Math.min(rows, maxRows), c = Math.min(cols, maxCols);
        float[] out = new float[r * c];                                                  // [r, c]
        int[] colStart = bounds(cols, c);
        double[] acc = new double[c];
        for (int i = 0; i < r; i++) {
            int r0 = (int) ((long) i * rows / r), r1 = (int) ((long) (i + 1) * rows / r);
            java.util.Arrays.fill(acc, 0);
            for (int y = r0; y < r1; y++) {
                int base = offset + y * cols;
                for (int j = 0; j < c; j++) {
                    double s = 0;
                    for (int x = colStart[j]; x < colStart[j + 1]; x++) s += src[base + x];
                    acc[j] += s;
                }
            }
            for (int j = 0; j < c; j++) {
                out[i * c + j] = (float) (acc[j] / ((double) (r1 - r0) * (colStart[j + 1] - colStart[j])));
            }
        }
        return encode(out, r, c, rows, cols);
    }

    /** {@link #of(float[], int, int, int, int, int)} from offset 0. */
    public static HeatMap of(float[] src, int rows, int cols, int maxRows, int maxCols) {
        return of(src, 0, rows, cols, maxRows, maxCols);
    }

    /** Already-reduced values {@code [rows, cols]} of a {@code [sourceRows, sourceCols]} source. */
    static HeatMap encode(float[] values, int rows, int cols, int sourceRows, int sourceCols) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
            if (Float.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (min > max) min = max = 0;
        return new HeatMap(rows, cols, sourceRows, sourceCols, min, max, Base64.getEncoder().encodeToString(b.array()));
    }

    /** The values, decoded from {@code f32}: {@code [rows * cols]}. */
    public float[] values() {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(f32)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = b.getFloat();
        return v;
    }

    /** {@code n + 1} bin edges splitting {@code [0, length)} into {@code n} nearly equal parts. */
    static int[] bounds(int length, int n) {
        int[] e = new int[n + 1];
        for (int i = 0; i <= n; i++) e[i] = (int) ((long) i * length / n);
        return e;
    }
}
