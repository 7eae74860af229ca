package io.qwenaudio.converter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.checkpoint.ChatTemplateFile;
import java.nio.charset.StandardCharsets;
import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.CheckpointException;
import io.qwenaudio.checkpoint.DomainAdapterConfig;
import io.qwenaudio.checkpoint.DomainAdapterWeights;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.Qwen2AudioConfig;
import io.qwenaudio.checkpoint.TensorSource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Converts a Hugging Face Qwen2-Audio checkpoint into an artifacts directory: ONNX graphs (audio encoder,
 * projector, token embedding, decoder, one per domain adapter) with external weight data, the tokenizer files,
 * {@code generation_config.json} and {@code manifest.json}.
 *
 * <p>Everything is written into a temporary directory beside the output and moved into place at the end, so a
 * failed or interrupted conversion never leaves a directory that looks valid. Weights stream tensor by tensor from
 * the memory-mapped checkpoint into the graphs' data files.
 */
public final class Converter {

    /** Tokenizer files copied when present. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.json", "merges.txt",
            "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");
    public static final String GENERATION_CONFIG = "generation_config.json";
    private static final Pattern ADAPTER_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to convert: {@code precision} is the graphs' {@link Dtype}, {@code graphOps} their op set
     * ({@link GraphOps#FUSED} by default), {@code promptFormat} {@link Manifest#PROMPT_CHAT} (text prompts go through
     * the chat template) or {@link Manifest#PROMPT_RAW} (a base checkpoint: text prompts follow the audio placeholder).
     */
    public record Options(Path checkpoint, Path out, Dtype precision, GraphOps graphOps, List<Path> loras,
                          Map<String, Path> adapters, String promptFormat) {
        public Options {
            if (!Manifest.PROMPT_CHAT.equals(promptFormat) && !Manifest.PROMPT_RAW.equals(promptFormat)) {
                throw new CheckpointException("prompt format '" + promptFormat + "' is not supported: use "
                        + Manifest.PROMPT_CHAT + " or " + Manifest.PROMPT_RAW);
            }
        }

        /** Chat prompts. */
        public Options(Path checkpoint, Path out, Dtype precision, GraphOps graphOps, List<Path> loras,
                       Map<String, Path> adapters) {
            this(checkpoint, out, precision, graphOps, loras, adapters, Manifest.PROMPT_CHAT);
        }

        /** fp32 or fp16 weights with the default (fused) op set and chat prompts. */
        public Options(Path checkpoint, Path out, GraphBuilder.WeightType dtype, List<Path> loras, Map<String, Path> adapters) {
            this(checkpoint, out, Dtype.of(dtype), GraphOps.FUSED, loras, adapters, Manifest.PROMPT_CHAT);
        }

        /** Storage type of the float weights that are not quantised. */
        public GraphBuilder.WeightType dtype() {
            return precision.weightType();
        }
    }

    private final PrintStream progress;

    /** @param progress where progress lines go (stderr in the CLI), or null for silence */
    public Converter(PrintStream progress) {
        this.progress = progress;
    }

    public Manifest convert(Options o) throws IOException {
        long t0 = System.nanoTime();
        checkOptions(o);
        List<LoraAdapter> loras = new ArrayList<>();
        for (Path p : o.loras()) loras.add(LoraAdapter.read(p));
        Path tmp = tempDirBeside(o.out());
        try (Checkpoint ck = Checkpoint.open(o.checkpoint())) {
            Qwen2AudioConfig cfg = ck.config();
            Map<String, DomainAdapterConfig> adapterCfgs = checkAdapters(o, cfg); // before the long part
            TensorSource w = new ProgressSource(loras.isEmpty() ? ck : new LoraMergedSource(ck, loras), progress);
            log("converting %s (%s layout, %d tensors) to %s, dtype %s, %s ops", o.checkpoint(), ck.layout(),
                    ck.names().size(), o.out(), o.precision().label(), o.graphOps().label());
            Map<String, Manifest.GraphSpec> graphs = writeModelGraphs(tmp, o, cfg, w);
            Map<String, Manifest.AdapterSpec> adapters = new TreeMap<>();
            for (Map.Entry<String, Path> a : o.adapters().entrySet()) {
                adapters.put(a.getKey(), buildAdapter(tmp, a.getKey(), a.getValue(), adapterCfgs.get(a.getKey()), o.dtype(),
                        o.graphOps()));
            }
            List<String> tokenizerFiles = copyTokenizer(o.checkpoint(), tmp);
            String chatTemplate = copyChatTemplate(o.checkpoint(), tmp);
            JsonNode generation = copyGenerationConfig(o.checkpoint(), tmp);
            Manifest m = manifest(o, cfg, SpecialTokenIds.read(o.checkpoint(), cfg, generation), generation, graphs,
                    adapters, loras, tokenizerFiles, chatTemplate);
            m = m.withFiles(Manifest.hashFiles(tmp, listFiles(tmp)));
            m.write(tmp);
            moveIntoPlace(tmp, o.out());
            log("done in %.1f s: %s", (System.nanoTime() - t0) / 1e9, o.out());
            return m;
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private static void checkOptions(Options o) throws IOException {
        if (Files.exists(o.out()) && !isEmptyDir(o.out())) {
            throw new CheckpointException("output " + o.out() + " already exists and is not empty; remove it or choose "
                    + "another --out");
        }
        if (o.graphOps() == GraphOps.STANDARD && o.precision() != Dtype.FP32 && o.precision() != Dtype.FP16) {
            throw new CheckpointException("--dtype " + o.precision().label() + " needs --graph-ops fused (ONNX Runtime "
                    + "contrib ops); with --graph-ops standard use fp32 or fp16");
        }
        for (String name : o.adapters().keySet()) checkAdapterName(name);
    }

    private Map<String, DomainAdapterConfig> checkAdapters(Options o, Qwen2AudioConfig cfg) {
        Map<String, DomainAdapterConfig> adapterCfgs = new LinkedHashMap<>();
        for (Map.Entry<String, Path> a : o.adapters().entrySet()) {
            adapterCfgs.put(a.getKey(), checkAdapter(a.getValue(), cfg.audio().dModel()));
        }
        return adapterCfgs;
    }

    /**
     * The audio encoder (in the chosen op set; weights fp32, or fp16 stored and computed in fp32), projector and
     * token embedding (standard ops) and the decoder in the chosen op set and dtype.
     */
    private Map<String, Manifest.GraphSpec> writeModelGraphs(Path tmp, Options o, Qwen2AudioConfig cfg, TensorSource w)
            throws IOException {
        GraphBuilder.WeightType wt = o.dtype();
        Map<String, Manifest.GraphSpec> graphs = new LinkedHashMap<>();
        graphs.put(Manifest.AUDIO_ENCODER, graph(tmp, "audio_encoder", wt, g -> EncoderGraph.build(g, cfg.audio(), w, o.graphOps())));
        graphs.put(Manifest.PROJECTOR, graph(tmp, "projector", wt, g -> ProjectorGraph.build(g, w)));
        graphs.put(Manifest.EMBED_TOKENS, graph(tmp, "embed_tokens", wt, g -> EmbedGraph.build(g, cfg.text(), w)));
        graphs.put(Manifest.DECODER, graph(tmp, "decoder", wt,
                g -> DecoderGraph.build(g, cfg.text(), w, o.graphOps(), o.precision())));
        return graphs;
    }

    /** Copies the tokenizer files there are; fails when there is no usable tokenizer. */
    private static List<String> copyTokenizer(Path checkpoint, Path tmp) throws IOException {
        List<String> tokenizerFiles = new ArrayList<>();
        for (String f : TOKENIZER_FILES) {
            Path src = checkpoint.resolve(f);
            if (Files.isRegularFile(src)) {
                Files.copy(src, tmp.resolve(f));
                tokenizerFiles.add(f);
            }
        }
        if (!tokenizerFiles.contains("tokenizer.json") && !(tokenizerFiles.contains("vocab.json")
                && tokenizerFiles.contains("merges.txt"))) {
            throw new CheckpointException("no tokenizer files in " + checkpoint + ": need tokenizer.json, or "
                    + "vocab.json + merges.txt (copy them from the model's hub repository)");
        }
        return tokenizerFiles;
    }

    /** Copies generation_config.json when present and returns it (null when absent). */
    private static JsonNode copyGenerationConfig(Path checkpoint, Path tmp) throws IOException {
        Path gen = checkpoint.resolve(GENERATION_CONFIG);
        if (!Files.isRegularFile(gen)) return null;
        Files.copy(gen, tmp.resolve(GENERATION_CONFIG));
        return JSON.readTree(gen.toFile());
    }

    private static Manifest manifest(Options o, Qwen2AudioConfig cfg, Manifest.SpecialTokens special, JsonNode generation,
                                     Map<String, Manifest.GraphSpec> graphs, Map<String, Manifest.AdapterSpec> adapters,
                                     List<LoraAdapter> loras, List<String> tokenizerFiles, String chatTemplate)
            throws IOException {
        List<Manifest.LoraSpec> loraSpecs = new ArrayList<>();
        for (LoraAdapter l : loras) {
            double scale = l.targets().values().stream().findFirst().map(LoraAdapter.Target::scale).orElse(0.0);
            loraSpecs.add(new Manifest.LoraSpec(l.directory().getFileName().toString(), l.r(), l.loraAlpha(), scale,
                    l.targets().size(), l.targets().keySet().stream().sorted().toList()));
        }
        return new Manifest(Manifest.FORMAT_VERSION, "qwen-audio 0.1.0", cfg.modelType(), o.precision().label(),
                new Manifest.AudioDims(cfg.audio().dModel(), cfg.audio().numMelBins(), cfg.audio().encoderLayers(), 750),
                new Manifest.TextDims(cfg.text().hiddenSize(), cfg.text().vocabSize(), cfg.text().numHiddenLayers(),
                        cfg.text().numAttentionHeads(), cfg.text().numKeyValueHeads(), cfg.text().headDim(),
                        cfg.text().maxPositionEmbeddings()),
                special, generation, graphs, adapters, loraSpecs, tokenizerFiles, JSON.readTree(cfg.rawJson()), null,
                o.promptFormat(), chatTemplate);
    }

    /**
     * Copies the checkpoint's own chat template ({@link ChatTemplateFile}) to {@link Manifest#CHAT_TEMPLATE_FILE};
     * returns that name, or null when the checkpoint has none (serving then uses the ChatML fallback).
     */
    private String copyChatTemplate(Path checkpoint, Path tmp) throws IOException {
        var found = ChatTemplateFile.find(checkpoint);
        if (found.isEmpty()) {
            log("no chat template in %s: serving uses the Qwen2-Audio-Instruct ChatML", checkpoint);
            return null;
        }
        Files.writeString(tmp.resolve(Manifest.CHAT_TEMPLATE_FILE), found.get().template(), StandardCharsets.UTF_8);
        log("chat template from %s", found.get().source());
        return Manifest.CHAT_TEMPLATE_FILE;
    }

    /** Adds (or replaces) a domain adapter in an existing artifacts directory and updates the manifest. */
    public Manifest addAdapter(Path artifacts, String name, Path adapterDir) throws IOException {
        checkAdapterName(name);
        Manifest m = Manifest.read(artifacts);
        DomainAdapterConfig cfg = checkAdapter(adapterDir, m.audio().dModel());
        Path staging = Files.createTempDirectory(artifacts, ".adapter-" + name + "-");
        try {
            // int8/int4 artifacts: adapters (audio side) stay float32; the op set follows the audio encoder's
            Manifest.AdapterSpec spec = buildAdapter(staging, name, adapterDir, cfg,
                    "fp16".equals(m.dtype()) ? GraphBuilder.WeightType.FLOAT16 : GraphBuilder.WeightType.FLOAT32,
                    audioOps(m));
            Path target = artifacts.resolve("adapters").resolve(name);
            deleteTree(target);
            Files.createDirectories(target.getParent());
            Files.move(staging.resolve("adapters").resolve(name), target, StandardCopyOption.ATOMIC_MOVE);
            Map<String, Manifest.AdapterSpec> adapters = new TreeMap<>(m.adapters() == null ? Map.of() : m.adapters());
            adapters.put(name, spec);
            Map<String, Manifest.FileEntry> files = new TreeMap<>(m.files());
            files.keySet().removeIf(k -> k.startsWith("adapters/" + name + "/"));
            files.putAll(Manifest.hashFiles(artifacts, List.of(spec.graph().file(), spec.graph().data())));
            Manifest updated = m.withAdapters(adapters).withFiles(files);
            updated.write(artifacts);
            log("added adapter '%s' (environment %s) to %s", name, spec.environment(), artifacts);
            return updated;
        } finally {
            deleteTree(staging);
        }
    }

    /** The op set of the artifacts' audio encoder ({@link GraphOps#STANDARD} when the manifest does not say). */
    static GraphOps audioOps(Manifest m) {
        Manifest.GraphSpec enc = m.graphs() == null ? null : m.graphs().get(Manifest.AUDIO_ENCODER);
        return enc != null && GraphOps.FUSED.label().equals(enc.opSet()) ? GraphOps.FUSED : GraphOps.STANDARD;
    }

    private DomainAdapterConfig checkAdapter(Path dir, int dModel) {
        DomainAdapterConfig c = DomainAdapterConfig.read(dir);
        if (c.inputDim() != dModel) {
            throw new CheckpointException("domain adapter " + dir + " has input_dim " + c.inputDim()
                    + " but the audio encoder's d_model is " + dModel + "; it was trained for a different model");
        }
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir)) {
            w.validate(c);
        }
        return c;
    }

    private Manifest.AdapterSpec buildAdapter(Path root, String name, Path dir, DomainAdapterConfig cfg,
                                              GraphBuilder.WeightType dtype, GraphOps ops) throws IOException {
        Path sub = Files.createDirectories(root.resolve("adapters").resolve(name));
        try (DomainAdapterWeights w = DomainAdapterWeights.open(dir)) {
            Manifest.GraphSpec g = graph(sub, "adapter", dtype, gb -> AdapterGraph.build(gb, cfg, w, ops));
            g = g.under("adapters/" + name + "/");
            Manifest.GraphSpec diag = graph(sub, "adapter_diagnostics", dtype, gb -> AdapterDiagnosticsGraph.build(gb, cfg, w))
                    .under("adapters/" + name + "/");
            JsonNode config = JSON.readTree(dir.resolve("adapter_config.json").toFile());
            return new Manifest.AdapterSpec(cfg.environment(), g, config, diag);
        }
    }

    @FunctionalInterface
    private interface GraphBody {
        void build(GraphBuilder g) throws IOException;
    }

    private Manifest.GraphSpec graph(Path dir, String name, GraphBuilder.WeightType dtype, GraphBody body) throws IOException {
        long t0 = System.nanoTime();
        String file = name + ".onnx";
        String data = file + ".data";
        Manifest.GraphSpec spec;
        try (GraphBuilder g = new GraphBuilder(name, dir.resolve(data), dtype)) {
            body.build(g);
            g.save(dir.resolve(file), "qwen-audio");
            spec = g.spec(file, data);
        }
        log("graph %s: %.1f MB in %.1f s", file, Files.size(dir.resolve(data)) / 1048576.0, (System.nanoTime() - t0) / 1e9);
        return spec;
    }

    private static void checkAdapterName(String name) {
        if (!ADAPTER_NAME.matcher(name).matches()) {
            throw new CheckpointException("adapter name '" + name + "' is not accepted: use 1-63 lower-case letters, "
                    + "digits, '-' or '_' (it becomes a directory name and a configuration key)");
        }
    }

    private void log(String fmt, Object... args) {
        if (progress != null) progress.println(String.format(Locale.ROOT, fmt, args));
    }

    private static boolean isEmptyDir(Path p) throws IOException {
        if (!Files.isDirectory(p)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
            return !s.iterator().hasNext();
        }
    }

    private static Path tempDirBeside(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".partial-");
        try { // temp dirs are private (0700); the artifacts are read by serving processes running as other users
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep its defaults
        }
        return tmp;
    }

    private static List<String> listFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
                    .filter(f -> !f.equals(Manifest.FILE)).sorted().toList();
        }
    }

    private static void moveIntoPlace(Path tmp, Path out) throws IOException {
        if (Files.isDirectory(out)) Files.delete(out); // empty, checked at start
        try {
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, out);
        }
    }

    static void deleteTree(Path p) {
        if (p == null || !Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new ArtifactsException("cannot remove " + p + ": " + e.getMessage(), e);
        }
    }
}
