package io.qwenaudio.reference;

/**
 * The one error measure of the parity checks: the largest absolute difference relative to the largest absolute
 * reference value, {@code max|actual - expected| / max|expected|}. NaN where either side holds a NaN, so a broken
 * graph never passes a tolerance check.
 */
public final class Parity {

    private Parity() {
    }

    /** {@code max|actual - expected| / max|expected|} over two arrays of the same length. */
    public static double relError(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError("lengths differ: expected " + expected.length + ", got " + actual.length);
        }
        return relError(expected, 0, actual, 0, expected.length);
    }

    /** The same over {@code n} values of each array, from {@code expectedOffset} and {@code actualOffset}. */
    public static double relError(float[] expected, int expectedOffset, float[] actual, int actualOffset, int n) {
        double diff = 0, ref = 0;
        for (int i = 0; i < n; i++) {
            float e = expected[expectedOffset + i], a = actual[actualOffset + i];
            if (Float.isNaN(e) || Float.isNaN(a)) return Double.NaN;
            diff = Math.max(diff, Math.abs(a - e));
            ref = Math.max(ref, Math.abs(e));
        }
        return diff / ref;
    }
}
