package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.tensor.Half;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code .safetensors} file, memory-mapped and read one tensor at a time.
 *
 * <p>Layout: 8-byte little-endian header length, a JSON header {@code {name: {dtype, shape, data_offsets}}},
 * then the data area. The header is checked completely on open (length, JSON, dtypes, sizes, offsets in range
 * and not overlapping). The data area is mapped in regions of at most {@code regionSize} bytes (a single
 * {@link MappedByteBuffer} cannot exceed 2 GB), and a tensor is converted to float32 in small chunks, so no
 * shard is ever copied onto the heap.
 */
public final class SafetensorsFile implements TensorSource, AutoCloseable {

    /** Dtypes converted to float32 on read. */
    public static final List<String> SUPPORTED_DTYPES = List.of("F32", "F16", "BF16");
    /** Default mapped region size: 1 GiB. */
    public static final long DEFAULT_REGION_SIZE = 1L << 30;
    /** Largest header accepted (the safetensors format limit is 100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1),
            Map.entry("F8_E4M3", 1), Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2),
            Map.entry("BF16", 2), Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 20;

    /** Where one tensor lives in the file. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long regionSize;
    private final MappedByteBuffer[] regions;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, long regionSize,
                            MappedByteBuffer[] regions, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.regionSize = regionSize;
        this.regions = regions;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path file) {
        return open(file, DEFAULT_REGION_SIZE);
    }

    /** Opens with a given mapped region size (tests use a small one to exercise tensors that span regions). */
    public static SafetensorsFile open(Path file, long regionSize) {
        if (regionSize < 8 || regionSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("regionSize must be in [8, 2^31-1], got " + regionSize);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("safetensors file not found: " + file);
        } catch (IOException e) {
            throw new CheckpointException("cannot open " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(file, ch, regionSize);
        } catch (RuntimeException | IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the original error matters more
            }
            if (e instanceof CheckpointException ce) throw ce;
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads and checks the header (length, JSON, every entry, no overlaps), then maps the data area. */
    private static SafetensorsFile parse(Path file, FileChannel ch, long regionSize) throws IOException {
        String bad = "corrupt safetensors header in " + file + ": ";
        long size = ch.size();
        long headerLen = headerLength(ch, size, bad);
        JsonNode root = header(ch, headerLen, bad);
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals("__metadata__")) {
                f.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else {
                entries.put(f.getKey(), entry(f.getKey(), f.getValue(), dataLen, file, bad));
            }
        }
        checkNoOverlap(entries.values(), bad);
        return new SafetensorsFile(file, ch, dataStart, regionSize, mapRegions(ch, dataStart, dataLen, regionSize),
                Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    /** The 8-byte little-endian header length, checked against the file size. */
    private static long headerLength(FileChannel ch, long size, String bad) throws IOException {
        if (size < 8) throw new CheckpointException(bad + "file has " + size + " bytes, fewer than the 8-byte length prefix");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
            throw new CheckpointException(bad + "header length " + headerLen + " is impossible for a file of "
                    + size + " bytes (expected 1.." + Math.min(MAX_HEADER_BYTES, size - 8)
                    + "); the file is truncated or not a safetensors file");
        }
        return headerLen;
    }

    /** The JSON header object after the length prefix. */
    private static JsonNode header(FileChannel ch, long headerLen, String bad) throws IOException {
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CheckpointException(bad + "header is not valid JSON (" + e.getClass().getSimpleName() + ")");
        }
        if (root == null || !root.isObject()) throw new CheckpointException(bad + "header is not a JSON object");
        return root;
    }

    /** One tensor's header entry: dtype known, shape non-negative, offsets inside the data area and of the right size. */
    private static Entry entry(String name, JsonNode v, long dataLen, Path file, String bad) {
        String dtype = v.path("dtype").asText(null);
        JsonNode shapeNode = v.path("shape");
        JsonNode offs = v.path("data_offsets");
        if (dtype == null || !shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
            throw new CheckpointException(bad + "tensor '" + name + "' needs dtype, shape and data_offsets [begin, end]");
        }
        Integer width = DTYPE_BYTES.get(dtype);
        if (width == null) {
            throw new CheckpointException("tensor '" + name + "' in " + file + " has unknown dtype " + dtype
                    + "; supported dtypes are " + SUPPORTED_DTYPES);
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || d.asLong() < 0) {
                throw new CheckpointException(bad + "tensor '" + name + "' has a bad shape " + shapeNode);
            }
            shape[i] = d.asLong();
        }
        if (!offs.get(0).isIntegralNumber() || !offs.get(1).isIntegralNumber()) {
            throw new CheckpointException(bad + "tensor '" + name + "' has non-integer data_offsets " + offs);
        }
        long begin = offs.get(0).asLong();
        long end = offs.get(1).asLong();
        Entry e = new Entry(name, dtype, shape, begin, end);
        if (begin < 0 || end < begin || end > dataLen) {
            throw new CheckpointException(bad + "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] are outside the data area of " + dataLen + " bytes");
        }
        if (end - begin != e.numel() * width) {
            throw new CheckpointException(bad + "tensor '" + name + "' spans " + (end - begin) + " bytes but "
                    + dtype + Arrays.toString(shape) + " needs " + e.numel() * width);
        }
        return e;
    }

    /** Fails naming the first two tensors whose byte ranges overlap. */
    private static void checkNoOverlap(Collection<Entry> entries, String bad) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compare(a.begin, b.begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin < prev.end) {
                throw new CheckpointException(bad + "tensors '" + prev.name + "' [" + prev.begin + ", " + prev.end
                        + "] and '" + cur.name + "' [" + cur.begin + ", " + cur.end + "] overlap");
            }
        }
    }

    /** The data area mapped read-only in regions of at most {@code regionSize} bytes. */
    private static MappedByteBuffer[] mapRegions(FileChannel ch, long dataStart, long dataLen, long regionSize)
            throws IOException {
        int n = (int) ((dataLen + regionSize - 1) / regionSize);
        MappedByteBuffer[] regions = new MappedByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long off = (long) i * regionSize;
            regions[i] = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + off, Math.min(regionSize, dataLen - off));
        }
        return regions;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map of the header (e.g. {@code format: pt}). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Header entry of a tensor; throws naming the tensor when absent. */
    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new CheckpointException("missing tensor '" + name + "' in " + path);
        return e;
    }

    /** Number of mapped regions of the data area. */
    public int regionCount() {
        return regions.length;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape.clone();
    }

    @Override
    public String dtype(String name) {
        return entry(name).dtype;
    }

    /** Receives consecutive pieces of a tensor converted to float32 (see {@link #streamFloats}). */
    @FunctionalInterface
    public interface FloatChunkConsumer {
        /** {@code values[0, count)} are elements {@code [offset, offset + count)} of the tensor (row-major). */
        void accept(float[] values, long offset, int count);
    }

    @Override
    public float[] floats(String name) {
        long numel = entry(name).numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw new CheckpointException("tensor '" + name + "' has " + numel + " elements, more than a Java array holds;"
                    + " read it with streamFloats");
        }
        float[] out = new float[(int) numel];
        streamFloats(name, CHUNK / 2, (v, off, n) -> System.arraycopy(v, 0, out, (int) off, n));
        return out;
    }

    /**
     * Converts a tensor to float32 piece by piece, {@code chunkElements} at a time (the buffer passed to the
     * consumer is reused), so tensors larger than a Java array or the heap can be copied elsewhere.
     */
    @Override
    public void streamFloats(String name, int chunkElements, FloatChunkConsumer consumer) {
        Entry e = entry(name);
        if (!SUPPORTED_DTYPES.contains(e.dtype)) {
            throw new CheckpointException("tensor '" + name + "' in " + path + " has dtype " + e.dtype
                    + ", which is not supported; supported dtypes are " + SUPPORTED_DTYPES);
        }
        if (chunkElements <= 0) throw new IllegalArgumentException("chunkElements must be positive");
        int width = DTYPE_BYTES.get(e.dtype);
        long numel = e.numel();
        int chunk = (int) Math.min(chunkElements, Math.max(numel, 1));
        byte[] bytes = new byte[chunk * width];
        float[] values = new float[chunk];
        ByteBuffer cb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < numel) {
            int count = (int) Math.min(chunk, numel - done);
            copy(e.begin + done * width, bytes, count * width);
            switch (e.dtype) {
                case "F32" -> {
                    for (int i = 0; i < count; i++) values[i] = cb.getFloat(i * 4);
                }
                case "F16" -> {
                    for (int i = 0; i < count; i++) values[i] = Half.toFloat(cb.getShort(i * 2));
                }
                default -> {
                    for (int i = 0; i < count; i++) values[i] = Half.bf16ToFloat(cb.getShort(i * 2));
                }
            }
            consumer.accept(values, done, count);
            done += count;
        }
    }

    /** Copies {@code len} bytes at data-area offset {@code pos} into {@code dst}, crossing regions as needed. */
    private void copy(long pos, byte[] dst, int len) {
        int done = 0;
        while (done < len) {
            long p = pos + done;
            int r = (int) (p / regionSize);
            int inRegion = (int) (p - (long) r * regionSize);
            ByteBuffer region = regions[r].duplicate();
            int n = Math.min(len - done, region.limit() - inRegion);
            region.position(inRegion);
            region.get(dst, done, n);
            done += n;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new CheckpointException("cannot close " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + entries.size() + " tensors, data at " + dataStart + "]";
    }
}
