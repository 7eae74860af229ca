package io.qwenaudio.converter;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import io.qwenaudio.artifacts.Manifest;
import io.qwenaudio.tensor.Half;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds one ONNX graph on the generated protobuf classes. Weights go to an external data file next to the
 * graph ({@code <graph>.onnx.data}), streamed one tensor at a time, so the protobuf holds only their location and
 * a converter never keeps a model on the heap; this also lifts protobuf's 2 GB limit.
 *
 * <p>Node and value names are path-like ({@code /audio_tower/layers.3/self_attn/q_proj/MatMul}) so a dump of the
 * graph reads like the module tree. {@link #op} returns the name of the node's (first) output,
 * {@code <node name>:0}, so graph code reads as a chain of calls.
 */
public final class GraphBuilder implements AutoCloseable {

    /** Weight storage type in the external data file. */
    public enum WeightType { FLOAT32, FLOAT16 }

    public static final int OPSET = 17;
    /** Ops ONNX Runtime registers in the default domain that are not standard ONNX (opset 17) ops. */
    public static final java.util.Set<String> ORT_DEFAULT_DOMAIN_OPS = java.util.Set.of("SimplifiedLayerNormalization");
    public static final String MS_DOMAIN = "com.microsoft";
    private static final int ALIGN = 64;
    private static final int WRITE_CHUNK = 1 << 20;

    private final String name;
    private final Path dataFile;
    private final WeightType weightType;
    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Map<String, Integer> opsets = new LinkedHashMap<>();
    private final OutputStream data;
    private long dataOffset;
    private int unnamed;
    /** Ops outside the standard ONNX opset this graph uses, as {@code domain:OpType} (ONNX Runtime contrib ops). */
    private final java.util.SortedSet<String> contribOps = new java.util.TreeSet<>();
    private String dtypeLabel;
    private String opSetLabel;

    /**
     * @param name       graph name
     * @param dataFile   external data file to create (its file name is what the graph references)
     * @param weightType how float weights are stored
     */
    public GraphBuilder(String name, Path dataFile, WeightType weightType) throws IOException {
        this.name = name;
        this.dataFile = dataFile;
        this.weightType = weightType;
        this.data = new BufferedOutputStream(Files.newOutputStream(dataFile), 1 << 20);
        graph.setName(name);
        opsets.put("", OPSET);
    }

    public WeightType weightType() {
        return weightType;
    }

    /** The ONNX element type float weights are stored as. */
    public int weightElemType() {
        return weightType == WeightType.FLOAT16 ? TensorProto.DataType.FLOAT16_VALUE : TensorProto.DataType.FLOAT_VALUE;
    }

    // ---- graph inputs and outputs; a dim is a Long (fixed) or a String (symbolic) ----

    public String input(String name, int elemType, Object... dims) {
        graph.addInput(valueInfo(name, elemType, dims));
        return name;
    }

    public void output(String value, int elemType, Object... dims) {
        graph.addOutput(valueInfo(value, elemType, dims));
    }

    /** Names an internal value as a graph output through an Identity node. */
    public void outputAs(String value, String outputName, int elemType, Object... dims) {
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName(outputName + "/Identity")
                .addInput(value).addOutput(outputName).build());
        output(outputName, elemType, dims);
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) db.setDimParam(s);
            else db.setDimValue(((Number) d).longValue());
            shape.addDim(db);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    // ---- initializers ----

    /** A float weight, written to the external data file in the builder's {@link WeightType}. */
    public String weight(String name, float[] values, long... shape) {
        return external(name, weightElemType(), values, weightType == WeightType.FLOAT16, shape);
    }

    /** A float weight stored as {@code elemType} (FLOAT, FLOAT16 or BFLOAT16), whatever the builder's weight type. */
    public String weightAs(String name, int elemType, float[] values, long... shape) {
        return external(name, elemType, values, false, shape);
    }

    /** A tensor of raw little-endian bytes (packed int4/int8 weights) appended to the external data file. */
    public String weightBytes(String name, int elemType, byte[] bytes, long... shape) {
        return externalBytes(name, elemType, shape, bytes.length, sink -> sink.accept(bytes));
    }

    /**
     * A tensor of raw bytes produced piece by piece ({@code producer} hands byte arrays to its sink, in order) and
     * {@code length} bytes long in total: a quantised lm_head streams through this without being held whole.
     */
    public String weightBytesStreamed(String name, int elemType, long length, long[] shape,
                                      java.util.function.Consumer<java.util.function.Consumer<byte[]>> producer) {
        return externalBytes(name, elemType, shape, length, producer);
    }

    private String externalBytes(String name, int elemType, long[] shape, long length,
                                 java.util.function.Consumer<java.util.function.Consumer<byte[]>> producer) {
        long[] written = {0};
        try {
            long pad = (ALIGN - dataOffset % ALIGN) % ALIGN;
            data.write(new byte[(int) pad]);
            dataOffset += pad;
            producer.accept(b -> {
                try {
                    data.write(b);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                written[0] += b.length;
            });
        } catch (IOException | UncheckedIOException e) {
            throw new UncheckedIOException("cannot write " + dataFile + ": " + e.getMessage(),
                    e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
        }
        if (written[0] != length) {
            throw new IllegalStateException("tensor '" + name + "' got " + written[0] + " bytes, expected " + length);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(kv("location", dataFile.getFileName().toString()))
                .addExternalData(kv("offset", Long.toString(dataOffset)))
                .addExternalData(kv("length", Long.toString(length)));
        for (long d : shape) t.addDims(d);
        dataOffset += length;
        graph.addInitializer(t);
        return name;
    }

    /** A float32 weight regardless of the builder's weight type (norm weights, small vectors kept exact). */
    public String weightF32(String name, float[] values, long... shape) {
        return external(name, TensorProto.DataType.FLOAT_VALUE, values, false, shape);
    }

    /**
     * A float weight copied from {@code source} piece by piece without ever holding it whole on the heap (the
     * embedding table and lm_head of the real model are 2.5 GB in float32).
     */
    public String weightStreamed(String name, io.qwenaudio.checkpoint.TensorSource source, String sourceName,
                                 long... shape) {
        return weightStreamedAs(name, weightElemType(), source, sourceName, shape);
    }

    /** {@link #weightStreamed} stored as {@code elemType} (FLOAT, FLOAT16 or BFLOAT16). */
    public String weightStreamedAs(String name, int elemType, io.qwenaudio.checkpoint.TensorSource source,
                                   String sourceName, long... shape) {
        return external(name, elemType, false, shape,
                sink -> source.streamFloats(sourceName, WRITE_CHUNK, (v, off, n) -> sink.write(v, 0, n)));
    }

    private String external(String name, int elemType, float[] values, boolean fp16, long... shape) {
        return external(name, elemType, fp16, shape, sink -> {
            for (int from = 0; from < values.length; from += WRITE_CHUNK) {
                sink.write(values, from, Math.min(WRITE_CHUNK, values.length - from));
            }
        });
    }

    /** Receives the float pieces of one tensor, in order. */
    @FunctionalInterface
    private interface Sink {
        void write(float[] values, int from, int count);
    }

    /**
     * Appends one tensor to the data file (aligned, in chunks of at most {@value #WRITE_CHUNK} values: a 156k x 4096
     * table is over 2 GB as bytes) as float32 or float16, and records it as an external initializer.
     */
    private String external(String name, int elemType, boolean unused, long[] shape, java.util.function.Consumer<Sink> producer) {
        boolean fp16 = elemType == TensorProto.DataType.FLOAT16_VALUE, bf16 = elemType == TensorProto.DataType.BFLOAT16_VALUE;
        if (!fp16 && !bf16 && elemType != TensorProto.DataType.FLOAT_VALUE) {
            throw new IllegalArgumentException("float weight '" + name + "' cannot be stored as ONNX type " + elemType);
        }
        int bytesPer = fp16 || bf16 ? 2 : 4;
        long count = io.qwenaudio.tensor.Npy.numElements(shape);
        long[] written = {0};
        ByteBuffer chunk = ByteBuffer.allocate(WRITE_CHUNK * bytesPer).order(ByteOrder.LITTLE_ENDIAN);
        try {
            long pad = (ALIGN - dataOffset % ALIGN) % ALIGN;
            data.write(new byte[(int) pad]);
            dataOffset += pad;
            producer.accept((v, from, n) -> {
                chunk.clear();
                if (fp16) {
                    for (int i = 0; i < n; i++) chunk.putShort(Half.fromFloat(v[from + i]));
                } else if (bf16) {
                    for (int i = 0; i < n; i++) chunk.putShort(toBfloat16(v[from + i]));
                } else {
                    chunk.asFloatBuffer().put(v, from, n);
                }
                try {
                    data.write(chunk.array(), 0, n * bytesPer);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                written[0] += n;
            });
        } catch (IOException | UncheckedIOException e) {
            throw new UncheckedIOException("cannot write " + dataFile + ": " + e.getMessage(),
                    e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
        }
        if (written[0] != count) {
            throw new IllegalStateException("tensor '" + name + "' got " + written[0] + " values, shape "
                    + java.util.Arrays.toString(shape) + " needs " + count);
        }
        long length = count * bytesPer;
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(kv("location", dataFile.getFileName().toString()))
                .addExternalData(kv("offset", Long.toString(dataOffset)))
                .addExternalData(kv("length", Long.toString(length)));
        for (long d : shape) t.addDims(d);
        dataOffset += length;
        graph.addInitializer(t);
        return name;
    }

    /** float32 -> bfloat16 bits, round to nearest even (NaN stays NaN). */
    static short toBfloat16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }

    private static OnnxMl.StringStringEntryProto kv(String k, String v) {
        return OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    /** A small int64 constant stored inside the graph. */
    public String constInts(String name, long[] values, long... shape) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
        for (long d : shape) t.addDims(d);
        for (long v : values) t.addInt64Data(v);
        graph.addInitializer(t);
        return name;
    }

    /** A 1-D int64 constant, e.g. a shape for Reshape or axes for Unsqueeze. */
    public String ints(String name, long... values) {
        return constInts(name, values, values.length);
    }

    /** A scalar float32 constant stored inside the graph. */
    public String scalar(String name, float value) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        t.addFloatData(value);
        graph.addInitializer(t);
        return name;
    }

    /** A small float32 constant stored inside the graph (not in the external data). */
    public String constFloats(String name, float[] values, long... shape) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : shape) t.addDims(d);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        t.setRawData(ByteString.copyFrom(b.array()));
        graph.addInitializer(t);
        return name;
    }

    // ---- nodes ----

    /** Adds a node with one output named {@code <nodeName>:0}; attributes: Long, Double/Float, String, long[], float[]. */
    public String op(String opType, String nodeName, List<String> inputs, Map<String, Object> attrs) {
        return opN(opType, "", nodeName, inputs, attrs, 1)[0];
    }

    public String op(String opType, String nodeName, String... inputs) {
        return op(opType, nodeName, List.of(inputs), Map.of());
    }

    /** Adds a {@code com.microsoft} contrib-op node with {@code outputs} outputs. */
    public String[] ms(String opType, String nodeName, List<String> inputs, Map<String, Object> attrs, int outputs) {
        return opN(opType, MS_DOMAIN, nodeName, inputs, attrs, outputs);
    }

    /**
     * Adds a node in {@code domain} whose outputs {@code wanted} (indices) are named {@code <nodeName>:i}; the
     * others up to the largest wanted index are left unnamed (optional outputs not computed). Returns names by index.
     */
    public String[] opSome(String opType, String domain, String nodeName, List<String> inputs, Map<String, Object> attrs,
                           int... wanted) {
        int n = java.util.Arrays.stream(wanted).max().orElse(0) + 1;
        String[] outs = opN(opType, domain, nodeName, inputs, attrs, n);
        graph.removeNode(graph.getNodeCount() - 1);
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(opType).setName(nodeName).addAllInput(inputs);
        if (!domain.isEmpty()) node.setDomain(domain);
        java.util.Set<Integer> keep = new java.util.HashSet<>();
        for (int w : wanted) keep.add(w);
        for (int i = 0; i < n; i++) {
            if (!keep.contains(i)) outs[i] = "";
            node.addOutput(outs[i]);
        }
        for (Map.Entry<String, Object> a : attrs.entrySet()) node.addAttribute(attr(a.getKey(), a.getValue()));
        graph.addNode(node);
        return outs;
    }

    /** Adds a node in a given domain with {@code outputs} outputs named {@code <nodeName>:i}. */
    public String[] opN(String opType, String domain, String nodeName, List<String> inputs,
                        Map<String, Object> attrs, int outputs) {
        if (nodeName == null) nodeName = "/" + opType + "_" + unnamed++;
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(nodeName).addAllInput(inputs);
        if (!domain.isEmpty()) {
            n.setDomain(domain);
            opsets.putIfAbsent(domain, 1);
            contribOps.add(domain + ":" + opType);
        } else if (ORT_DEFAULT_DOMAIN_OPS.contains(opType)) {
            contribOps.add(opType);
        }
        String[] outs = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            outs[i] = nodeName + ":" + i;
            n.addOutput(outs[i]);
        }
        for (Map.Entry<String, Object> a : attrs.entrySet()) n.addAttribute(attr(a.getKey(), a.getValue()));
        graph.addNode(n);
        return outs;
    }

    private static AttributeProto attr(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Integer || v instanceof Long) {
            a.setType(AttributeProto.AttributeType.INT).setI(((Number) v).longValue());
        } else if (v instanceof Float || v instanceof Double) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(((Number) v).floatValue());
        } else if (v instanceof String s) {
            a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else if (v instanceof long[] ls) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long l : ls) a.addInts(l);
        } else if (v instanceof float[] fs) {
            a.setType(AttributeProto.AttributeType.FLOATS);
            for (float f : fs) a.addFloats(f);
        } else if (v instanceof TensorProto t) {
            a.setType(AttributeProto.AttributeType.TENSOR).setT(t);
        } else {
            throw new IllegalArgumentException("unsupported attribute " + name + " = " + v);
        }
        return a.build();
    }

    // ---- common ops, named after their module path ----

    /** y = x W^T (+ b) for a PyTorch Linear weight [out, in] given here already transposed as [in, out]. */
    public String matmul(String path, String x, String w) {
        return op("MatMul", path + "/MatMul", x, w);
    }

    public String add(String path, String a, String b) {
        return op("Add", path, a, b);
    }

    public String mul(String path, String a, String b) {
        return op("Mul", path, a, b);
    }

    /** Writes the graph ({@code .onnx}) and closes the external data file. Returns the files written. */
    public List<Path> save(Path onnxFile, String producer) throws IOException {
        close();
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(8).setProducerName(producer)
                .setProducerVersion("0.1.0").setGraph(graph);
        for (Map.Entry<String, Integer> o : opsets.entrySet()) {
            m.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(o.getKey()).setVersion(o.getValue()));
        }
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(onnxFile))) {
            m.build().writeTo(os);
        }
        List<Path> files = new ArrayList<>();
        files.add(onnxFile);
        files.add(dataFile);
        return files;
    }

    public String name() {
        return name;
    }

    /**
     * Labels the graph for the manifest: its compute/weight dtype ({@code fp32}, {@code fp16}, {@code int4}, ...)
     * and its op set ({@code standard} or {@code fused}).
     */
    public void describe(String dtype, String opSet) {
        this.dtypeLabel = dtype;
        this.opSetLabel = opSet;
    }

    /** Non-standard ops used so far, sorted ({@code com.microsoft:GroupQueryAttention}, ...). */
    public List<String> contribOps() {
        return List.copyOf(contribOps);
    }

    /** Number of nodes so far. */
    public int nodeCount() {
        return graph.getNodeCount();
    }

    /**
     * The graph's signature for the manifest: inputs and outputs with dtype names and (symbolic) shapes, its dtype
     * and op set (as given to {@link #describe}; {@code fp32}/{@code fp16} after the weight type and
     * {@code standard} when not described) and the non-standard ops it needs.
     */
    public Manifest.GraphSpec spec(String file, String dataFileName) {
        String dtype = dtypeLabel != null ? dtypeLabel : weightType == WeightType.FLOAT16 ? "fp16" : "fp32";
        String opSet = opSetLabel != null ? opSetLabel : contribOps.isEmpty() ? "standard" : "fused";
        return new Manifest.GraphSpec(file, dataFileName, ioSpecs(graph.getInputList()), ioSpecs(graph.getOutputList()),
                dtype, opSet, contribOps());
    }

    private static List<Manifest.IoSpec> ioSpecs(List<ValueInfoProto> values) {
        List<Manifest.IoSpec> out = new ArrayList<>();
        for (ValueInfoProto v : values) {
            TypeProto.Tensor t = v.getType().getTensorType();
            List<Object> shape = new ArrayList<>();
            for (TensorShapeProto.Dimension d : t.getShape().getDimList()) {
                shape.add(d.hasDimParam() ? d.getDimParam() : (Object) d.getDimValue());
            }
            out.add(new Manifest.IoSpec(v.getName(), dtypeName(t.getElemType()), shape));
        }
        return out;
    }

    /** numpy-style dtype name of an ONNX element type. */
    public static String dtypeName(int elemType) {
        return switch (elemType) {
            case TensorProto.DataType.FLOAT_VALUE -> "float32";
            case TensorProto.DataType.FLOAT16_VALUE -> "float16";
            case TensorProto.DataType.INT64_VALUE -> "int64";
            case TensorProto.DataType.INT32_VALUE -> "int32";
            case TensorProto.DataType.BOOL_VALUE -> "bool";
            case TensorProto.DataType.UINT8_VALUE -> "uint8";
            case TensorProto.DataType.BFLOAT16_VALUE -> "bfloat16";
            default -> "onnx_type_" + elemType;
        };
    }

    @Override
    public void close() throws IOException {
        data.close();
    }
}
