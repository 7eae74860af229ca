package io.qwenaudio.runtime;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.artifacts.Manifest;

import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks, before a session is created, that the installed ONNX Runtime can run a graph as the manifest describes
 * it: every non-standard op it lists ({@link Manifest.GraphSpec#ops()}) and its dtype on the chosen execution
 * provider. A refusal names the graph, the missing op and what to do. Session-creation errors of the kind "Could not
 * find an implementation for X" are reworded the same way ({@link #explain}).
 */
public final class GraphSupport {

    /**
     * Contrib ops the converter writes that ONNX Runtime (1.29, the version this project pins and checks) runs on
     * both the CPU and the CUDA execution providers, in fp32 and fp16.
     */
    public static final Set<String> KNOWN_OPS = Set.of(
            "SimplifiedLayerNormalization",
            "com.microsoft:SkipSimplifiedLayerNormalization",
            "com.microsoft:GroupQueryAttention",
            "com.microsoft:MatMulNBits",
            "com.microsoft:MultiHeadAttention",
            "com.microsoft:RotaryEmbedding",
            "com.microsoft:SkipLayerNormalization",
            "com.microsoft:Gelu",
            "com.microsoft:FastGelu");

    /** The ONNX Runtime minor version from which {@link #KNOWN_OPS} are checked. */
    static final int MIN_MINOR = 29;

    private GraphSupport() {
    }

    /**
     * Refuses a graph the runtime cannot run.
     *
     * @param graph      the graph's name for messages (its file, e.g. {@code decoder.onnx})
     * @param spec       the manifest's entry
     * @param ortVersion the installed ONNX Runtime's version ({@code OrtEnvironment.getVersion()})
     * @param provider   {@code cpu} or {@code cuda:<n>}
     */
    public static void require(String graph, Manifest.GraphSpec spec, String ortVersion, String provider) {
        if ("bf16".equals(spec.dtype()) && !provider.startsWith("cuda")) {
            throw new ArtifactsException("graph " + graph + " is bf16, which ONNX Runtime has no CPU kernels for; run it on "
                    + "CUDA (" + RuntimeOptions.PREFIX + "execution-provider=cuda) or convert again with --dtype fp16 or fp32");
        }
        List<String> ops = spec.requiredOps();
        if (ops.isEmpty()) return;
        boolean oldRuntime = minor(ortVersion) < MIN_MINOR;
        for (String op : ops) {
            if (!KNOWN_OPS.contains(op) || oldRuntime) {
                throw new ArtifactsException("graph " + graph + " needs op " + op + ", which the installed ONNX Runtime "
                        + ortVersion + " on " + provider + " cannot run (this build runs "
                        + (oldRuntime ? "none of them; it needs 1." + MIN_MINOR + " or later" : "the contrib ops "
                        + KNOWN_OPS.stream().sorted().toList()) + "); convert the checkpoint again with "
                        + "--graph-ops standard, or install a runtime that has it");
            }
        }
    }

    private static final Pattern NO_KERNEL = Pattern.compile("Could not find an implementation for (\\w+)\\((\\d+)\\) node with name '([^']*)'");

    /**
     * Rewords ONNX Runtime's "Could not find an implementation for OP(v) node with name 'N'" as a refusal naming the
     * graph and the op; returns null when the message is of another kind.
     */
    public static String explain(String graph, String ortMessage, String provider) {
        Matcher m = NO_KERNEL.matcher(ortMessage == null ? "" : ortMessage);
        if (!m.find()) return null;
        return "graph " + graph + " needs op " + m.group(1) + " (opset " + m.group(2) + ", node '" + m.group(3)
                + "'), which the installed ONNX Runtime cannot run on " + provider + " in this dtype; convert the "
                + "checkpoint again with --graph-ops standard (or another --dtype)";
    }

    private static int minor(String version) {
        try {
            String[] p = version.split("\\.");
            return Integer.parseInt(p[0]) > 1 ? Integer.MAX_VALUE : Integer.parseInt(p[1]);
        } catch (RuntimeException e) {
            return Integer.MAX_VALUE; // unknown format: let session creation decide
        }
    }
}
