package io.qwenaudio.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A Hugging Face Qwen2-Audio checkpoint directory: {@code config.json} plus either {@code model.safetensors} or
 * shards listed in {@code model.safetensors.index.json}. Tensors are exposed under the canonical hub names
 * ({@link KeyLayout}) whichever layout the files use, and read lazily from memory-mapped files.
 */
public final class Checkpoint implements TensorSource, AutoCloseable {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private record Location(SafetensorsFile file, String storedName) {
    }

    private final Path directory;
    private final Qwen2AudioConfig config;
    private final KeyLayout layout;
    private final List<SafetensorsFile> files;
    private final Map<String, Location> tensors;

    private Checkpoint(Path directory, Qwen2AudioConfig config, KeyLayout layout, List<SafetensorsFile> files,
                       Map<String, Location> tensors) {
        this.directory = directory;
        this.config = config;
        this.layout = layout;
        this.files = files;
        this.tensors = tensors;
    }

    public static Checkpoint open(Path dir) {
        return open(dir, SafetensorsFile.DEFAULT_REGION_SIZE);
    }

    /** Opens with a given mmap region size (see {@link SafetensorsFile#open(Path, long)}). */
    public static Checkpoint open(Path dir, long regionSize) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("checkpoint directory not found: " + dir
                    + " (expected a Hugging Face model directory with config.json and *.safetensors)");
        }
        Qwen2AudioConfig config = Qwen2AudioConfig.read(dir.resolve("config.json"));
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, List<String>> byFile = shardPlan(dir);
            Map<String, Location> tensors = new TreeMap<>();
            List<String> stored = new ArrayList<>();
            for (Map.Entry<String, List<String>> shard : byFile.entrySet()) {
                Path p = dir.resolve(shard.getKey());
                if (!Files.isRegularFile(p)) {
                    throw new CheckpointException("missing shard " + shard.getKey() + " in " + dir + " (listed in "
                            + INDEX_FILE + " for " + shard.getValue().size() + " tensors, e.g. '"
                            + shard.getValue().get(0) + "'); download the complete checkpoint");
                }
                SafetensorsFile f = SafetensorsFile.open(p, regionSize);
                files.add(f);
                List<String> names = shard.getValue().isEmpty() ? new ArrayList<>(f.names()) : shard.getValue();
                for (String name : names) {
                    if (!f.names().contains(name)) {
                        throw new CheckpointException("tensor '" + name + "' is listed in " + INDEX_FILE
                                + " for " + shard.getKey() + " but that file does not hold it");
                    }
                    String canonical = KeyLayout.canonical(name);
                    Location prev = tensors.put(canonical, new Location(f, name));
                    if (prev != null) {
                        throw new CheckpointException("tensor '" + canonical + "' is stored twice ('" + prev.storedName
                                + "' and '" + name + "'); the checkpoint mixes key layouts");
                    }
                    stored.add(name);
                }
            }
            return new Checkpoint(dir, config, KeyLayout.detect(stored), List.copyOf(files),
                    Collections.unmodifiableMap(tensors));
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** File name -> stored tensor names (empty list: every tensor in that file). */
    private static Map<String, List<String>> shardPlan(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        Map<String, List<String>> byFile = new LinkedHashMap<>();
        if (Files.isRegularFile(index)) {
            JsonNode root;
            try {
                root = new ObjectMapper().readTree(index.toFile());
            } catch (IOException e) {
                throw new CheckpointException(index + " is not valid JSON: " + e.getMessage(), e);
            }
            JsonNode map = root == null ? null : root.get("weight_map");
            if (map == null || !map.isObject() || map.isEmpty()) {
                throw new CheckpointException(index + " has no weight_map {tensor name: shard file}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String file = e.getValue().asText();
                if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith("..")) {
                    throw new CheckpointException(index + ": tensor '" + e.getKey() + "' maps to a bad file name '"
                            + file + "'; expected a shard file in the same directory");
                }
                byFile.computeIfAbsent(file, k -> new ArrayList<>()).add(e.getKey());
            }
            return byFile;
        }
        if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
            byFile.put(SINGLE_FILE, List.of());
            return byFile;
        }
        throw new CheckpointException("no weights in " + dir + ": expected " + SINGLE_FILE + " or " + INDEX_FILE
                + " with its shards (only safetensors checkpoints are supported, not pytorch_model.bin)");
    }

    public Path directory() {
        return directory;
    }

    public Qwen2AudioConfig config() {
        return config;
    }

    /** The key layout the files use (names exposed here are always canonical). */
    public KeyLayout layout() {
        return layout;
    }

    /** The safetensors files, in the order opened. */
    public List<SafetensorsFile> files() {
        return files;
    }

    /** The name a canonical tensor has in its file. */
    public String storedName(String canonical) {
        return location(canonical).storedName;
    }

    /** The header entry (dtype, shape, offsets) of a canonical tensor, without reading data. */
    public SafetensorsFile.Entry entry(String canonical) {
        Location l = location(canonical);
        return l.file.entry(l.storedName);
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape().clone();
    }

    @Override
    public String dtype(String name) {
        return entry(name).dtype();
    }

    @Override
    public float[] floats(String name) {
        Location l = location(name);
        return l.file.floats(l.storedName);
    }

    /** Reads a tensor piece by piece as float32 (see {@link SafetensorsFile#streamFloats}). */
    @Override
    public void streamFloats(String name, int chunkElements, SafetensorsFile.FloatChunkConsumer consumer) {
        Location l = location(name);
        l.file.streamFloats(l.storedName, chunkElements, consumer);
    }

    /** Elements of a tensor (product of its shape). */
    public long numel(String name) {
        return entry(name).numel();
    }

    private Location location(String canonical) {
        Location l = tensors.get(canonical);
        if (l == null) {
            throw new CheckpointException("missing tensor '" + canonical + "' in checkpoint " + directory
                    + " (" + tensors.size() + " tensors, layout " + layout + ")");
        }
        return l;
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) f.close();
    }
}
