package io.qwenaudio.tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files (format version 1.0/2.0/3.0, C order, little endian).
 *
 * <p>Supported dtypes: {@code <f4} (float32), {@code <f2} (float16, raw bits), {@code <i4} (int32),
 * {@code <i8} (int64), {@code |u1}/{@code |i1}/{@code |b1} (bytes). This is the tensor format used between
 * stages and by the command line, so it stays dependency-free.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']+)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** The element types this class reads and writes. */
    public enum DType {
        FLOAT32("<f4", 4), FLOAT16("<f2", 2), INT32("<i4", 4), INT64("<i8", 8), UINT8("|u1", 1), INT8("|i1", 1),
        BOOL("|b1", 1);

        public final String descr;
        public final int size;

        DType(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        static DType of(String descr) {
            String d = descr.startsWith("=") ? "<" + descr.substring(1) : descr;
            for (DType t : values()) {
                if (t.descr.equals(d) || (t.size == 1 && t.descr.substring(1).equals(d.substring(1)))) {
                    return t;
                }
            }
            throw new NpyFormatException("unsupported .npy dtype '" + descr
                    + "'; accepted: <f4 (float32), <f2 (float16), <i4, <i8, |u1, |i1, |b1 (little endian, C order)");
        }
    }

    /** An array read from a .npy file: shape, dtype and the raw little-endian data. */
    public record Array(DType dtype, long[] shape, ByteBuffer data) {
        public long size() {
            return Npy.numElements(shape);
        }

        /** Data as float32, converting float16 and integers. */
        public float[] toFloats() {
            int n = Math.toIntExact(size());
            float[] out = new float[n];
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case FLOAT32 -> b.asFloatBuffer().get(out);
                case FLOAT16 -> {
                    for (int i = 0; i < n; i++) out[i] = Half.toFloat(b.getShort(2 * i));
                }
                case INT32 -> {
                    for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i);
                }
                case INT64 -> {
                    for (int i = 0; i < n; i++) out[i] = b.getLong(8 * i);
                }
                case UINT8, BOOL -> {
                    for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff;
                }
                case INT8 -> {
                    for (int i = 0; i < n; i++) out[i] = b.get(i);
                }
            }
            return out;
        }

        /** Data as long integers; rejects floating-point arrays. */
        public long[] toLongs() {
            int n = Math.toIntExact(size());
            long[] out = new long[n];
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case INT32 -> {
                    for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i);
                }
                case INT64 -> {
                    for (int i = 0; i < n; i++) out[i] = b.getLong(8 * i);
                }
                case UINT8, BOOL -> {
                    for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff;
                }
                case INT8 -> {
                    for (int i = 0; i < n; i++) out[i] = b.get(i);
                }
                default -> throw new NpyFormatException("expected an integer .npy array, got " + dtype.descr);
            }
            return out;
        }
    }

    /** Thrown when bytes are not a .npy file this class can read. */
    public static final class NpyFormatException extends RuntimeException {
        public NpyFormatException(String message) {
            super(message);
        }
    }

    private Npy() {
    }

    public static long numElements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    // ---- writing ----

    public static byte[] header(DType dtype, long[] shape) {
        StringBuilder s = new StringBuilder("{'descr': '").append(dtype.descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            s.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) s.append(shape.length == 1 ? "," : ", ");
        }
        s.append("), }");
        // Pad with spaces so that magic + version + length + header is a multiple of 64, ending in '\n'.
        int base = MAGIC.length + 2 + 2;
        int total = base + s.length() + 1;
        int padded = ((total + 63) / 64) * 64;
        boolean v2 = padded - base > 0xffff;
        if (v2) {
            base += 2;
            total = base + s.length() + 1;
            padded = ((total + 63) / 64) * 64;
        }
        s.append(" ".repeat(padded - total)).append('\n');
        byte[] h = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(base + h.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) (v2 ? 2 : 1)).put((byte) 0);
        if (v2) out.putInt(h.length);
        else out.putShort((short) h.length);
        out.put(h);
        return out.array();
    }

    public static byte[] toBytes(float[] data, long... shape) {
        checkSize(data.length, shape);
        byte[] h = header(DType.FLOAT32, shape);
        ByteBuffer b = ByteBuffer.allocate(h.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h).asFloatBuffer().put(data);
        return b.array();
    }

    /** float32 data stored as IEEE half precision ({@code <f2}); values beyond the fp16 range become ±inf. */
    public static byte[] toBytesFp16(float[] data, long... shape) {
        checkSize(data.length, shape);
        byte[] h = header(DType.FLOAT16, shape);
        ByteBuffer b = ByteBuffer.allocate(h.length + 2 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h);
        for (float v : data) b.putShort(Half.fromFloat(v));
        return b.array();
    }

    public static byte[] toBytes(int[] data, long... shape) {
        checkSize(data.length, shape);
        byte[] h = header(DType.INT32, shape);
        ByteBuffer b = ByteBuffer.allocate(h.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h).asIntBuffer().put(data);
        return b.array();
    }

    public static byte[] toBytes(long[] data, long... shape) {
        checkSize(data.length, shape);
        byte[] h = header(DType.INT64, shape);
        ByteBuffer b = ByteBuffer.allocate(h.length + 8 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h).asLongBuffer().put(data);
        return b.array();
    }

    public static void write(Path file, float[] data, long... shape) throws IOException {
        Files.write(file, toBytes(data, shape));
    }

    public static void write(Path file, int[] data, long... shape) throws IOException {
        Files.write(file, toBytes(data, shape));
    }

    /**
     * Streams a float32 array whose rows are produced one block at a time (e.g. one 30 s window after another),
     * so a long clip never needs its whole output in one Java array.
     */
    public static void writeFloatBlocks(OutputStream out, long[] shape, List<float[]> blocks) throws IOException {
        long n = 0;
        for (float[] blk : blocks) n += blk.length;
        if (n != numElements(shape)) {
            throw new IllegalArgumentException("blocks hold " + n + " values, shape " + Arrays.toString(shape)
                    + " needs " + numElements(shape));
        }
        out.write(header(DType.FLOAT32, shape));
        for (float[] blk : blocks) {
            ByteBuffer b = ByteBuffer.allocate(4 * blk.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(blk);
            out.write(b.array());
        }
    }

    private static void checkSize(int length, long[] shape) {
        if (length != numElements(shape)) {
            throw new IllegalArgumentException("data has " + length + " values but shape " + Arrays.toString(shape)
                    + " needs " + numElements(shape));
        }
    }

    // ---- reading ----

    public static Array read(Path file) throws IOException {
        return read(Files.readAllBytes(file));
    }

    public static Array read(InputStream in) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        in.transferTo(bos);
        return read(bos.toByteArray());
    }

    public static Array read(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10) throw new NpyFormatException("not a .npy file: only " + bytes.length + " bytes");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) throw new NpyFormatException("not a .npy file: missing the \\x93NUMPY magic");
        }
        int major = bytes[6];
        int headerLen;
        int offset;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xffff;
            offset = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new NpyFormatException("truncated .npy header");
            headerLen = b.getInt(8);
            offset = 12;
        } else {
            throw new NpyFormatException("unsupported .npy format version " + major + " (accepted: 1, 2, 3)");
        }
        if (headerLen < 0 || offset + (long) headerLen > bytes.length) {
            throw new NpyFormatException("truncated .npy header");
        }
        String header = new String(bytes, offset, headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher o = ORDER.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !o.find() || !s.find()) {
            throw new NpyFormatException("malformed .npy header: " + header.trim());
        }
        if (o.group(1).equals("True")) {
            throw new NpyFormatException("Fortran-order .npy arrays are not accepted; save with np.ascontiguousarray");
        }
        DType dtype = DType.of(d.group(1));
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String p = part.trim();
            if (p.isEmpty()) continue;
            try {
                dims.add(Long.parseLong(p.toLowerCase(Locale.ROOT).replace("l", "")));
            } catch (NumberFormatException e) {
                throw new NpyFormatException("malformed .npy shape: (" + s.group(1) + ")");
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long need;
        try {
            need = Math.multiplyExact(numElements(shape), (long) dtype.size);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new NpyFormatException("invalid .npy shape " + Arrays.toString(shape));
        }
        int dataStart = offset + headerLen;
        if (bytes.length - dataStart < need) {
            throw new NpyFormatException("truncated .npy data: shape " + Arrays.toString(shape) + " needs " + need
                    + " bytes, file has " + (bytes.length - dataStart));
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) need).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new Array(dtype, shape, data);
    }
}
