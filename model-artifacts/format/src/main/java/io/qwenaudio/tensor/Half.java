package io.qwenaudio.tensor;

/**
 * IEEE 754 half precision (fp16) and bfloat16 conversions. fp16 is the JDK's own ({@code Float.float16ToFloat},
 * {@code Float.floatToFloat16}: round-to-nearest-even, subnormals, infinities and NaN preserved); the JDK has no
 * bfloat16, so that part is written here.
 */
public final class Half {
    private Half() {
    }

    /** fp16 bits -> float. */
    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** float -> fp16 bits, rounding to nearest even; overflow becomes ±inf. */
    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }

    /** bfloat16 bits -> float (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float -> bfloat16 bits, round to nearest even (NaN kept quiet). */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7f800000) == 0x7f800000 && (x & 0x7fffff) != 0) return (short) ((x >>> 16) | 0x40);
        int rounding = 0x7fff + ((x >>> 16) & 1);
        return (short) ((x + rounding) >>> 16);
    }
}
