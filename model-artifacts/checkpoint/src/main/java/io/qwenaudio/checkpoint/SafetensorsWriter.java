package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qwenaudio.tensor.Half;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes {@code .safetensors} files in a streaming way: the header first (from the declared names and shapes),
 * then each tensor's data in declaration order, so only one tensor is in memory at a time. Also writes a
 * sharded checkpoint ({@code model-0000k-of-0000n.safetensors} + {@code model.safetensors.index.json}).
 */
public final class SafetensorsWriter implements AutoCloseable {

    /** Output dtypes. */
    public enum DType {
        F32(4), F16(2), BF16(2);

        public final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** A tensor to be written: its name, shape and stored dtype. */
    public record Spec(String name, long[] shape, DType dtype) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        public long byteSize() {
            return numel() * dtype.bytes;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final OutputStream out;
    private final List<Spec> specs;
    private int next;

    private SafetensorsWriter(Path file, OutputStream out, List<Spec> specs) {
        this.file = file;
        this.out = out;
        this.specs = specs;
    }

    /** Creates {@code file} and writes its header; then call {@link #write} once per spec, in order. */
    public static SafetensorsWriter create(Path file, List<Spec> specs, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", "pt");
        if (metadata != null) metadata.forEach(meta::put);
        long offset = 0;
        for (Spec s : specs) {
            ObjectNode t = header.putObject(s.name());
            t.put("dtype", s.dtype().name());
            var shape = t.putArray("shape");
            for (long d : s.shape()) shape.add(d);
            var offs = t.putArray("data_offsets");
            offs.add(offset);
            offs.add(offset + s.byteSize());
            offset += s.byteSize();
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // data area 8-byte aligned, as the safetensors library writes it
        byte[] hdr = Arrays.copyOf(json, padded);
        Arrays.fill(hdr, json.length, padded, (byte) ' ');
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(hdr);
        return new SafetensorsWriter(file, out, List.copyOf(specs));
    }

    /** Writes the data of the next declared tensor; the name and element count must match the declaration. */
    public void write(String name, float[] data) throws IOException {
        if (next >= specs.size()) throw new IllegalStateException("all " + specs.size() + " tensors already written");
        Spec s = specs.get(next);
        if (!s.name().equals(name)) {
            throw new IllegalStateException("expected tensor '" + s.name() + "' next, got '" + name + "'");
        }
        if (s.numel() != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.length + " values for shape "
                    + Arrays.toString(s.shape()));
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.min(data.length, 1 << 16) * s.dtype().bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : data) {
            if (!buf.hasRemaining()) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            switch (s.dtype()) {
                case F32 -> buf.putFloat(v);
                case F16 -> buf.putShort(Half.fromFloat(v));
                case BF16 -> buf.putShort(Half.floatToBf16(v));
            }
        }
        out.write(buf.array(), 0, buf.position());
        next++;
    }

    @Override
    public void close() throws IOException {
        out.close();
        if (next != specs.size()) {
            throw new IllegalStateException(file + ": only " + next + " of " + specs.size() + " tensors were written");
        }
    }

    /** Writes every tensor of {@code source} (sorted by name) into one file with the given dtype. */
    public static void writeFile(Path file, TensorSource source, DType dtype) throws IOException {
        List<Spec> specs = new ArrayList<>();
        for (String name : new TreeSet<>(source.names())) specs.add(new Spec(name, source.shape(name), dtype));
        writeFile(file, source, specs);
    }

    private static void writeFile(Path file, TensorSource source, List<Spec> specs) throws IOException {
        try (SafetensorsWriter w = create(file, specs, Map.of())) {
            for (Spec s : specs) w.write(s.name(), source.floats(s.name()));
        }
    }

    /**
     * Writes a Hugging Face checkpoint's weights into {@code dir}: {@code model.safetensors} when everything fits
     * in {@code maxShardBytes}, else shards {@code model-0000k-of-0000n.safetensors} filled in name order up to
     * that size plus {@code model.safetensors.index.json}. Returns the files written.
     */
    public static List<Path> writeCheckpoint(Path dir, TensorSource source, DType dtype, long maxShardBytes)
            throws IOException {
        Files.createDirectories(dir);
        List<List<Spec>> shards = new ArrayList<>();
        List<Spec> cur = new ArrayList<>();
        long curBytes = 0, total = 0;
        for (String name : new TreeSet<>(source.names())) {
            Spec s = new Spec(name, source.shape(name), dtype);
            if (!cur.isEmpty() && curBytes + s.byteSize() > maxShardBytes) {
                shards.add(cur);
                cur = new ArrayList<>();
                curBytes = 0;
            }
            cur.add(s);
            curBytes += s.byteSize();
            total += s.byteSize();
        }
        if (!cur.isEmpty()) shards.add(cur);
        List<Path> written = new ArrayList<>();
        if (shards.size() <= 1) {
            Path f = dir.resolve(Checkpoint.SINGLE_FILE);
            writeFile(f, source, shards.isEmpty() ? List.of() : shards.get(0));
            written.add(f);
            return written;
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String fname = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path f = dir.resolve(fname);
            writeFile(f, source, shards.get(i));
            for (Spec s : shards.get(i)) weightMap.put(s.name(), fname);
            written.add(f);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode wm = index.putObject("weight_map");
        weightMap.forEach(wm::put);
        Path idx = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(idx, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n",
                StandardCharsets.UTF_8);
        written.add(idx);
        return written;
    }
}
