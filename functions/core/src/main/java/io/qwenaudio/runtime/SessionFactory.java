package io.qwenaudio.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;

import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Creates ONNX Runtime sessions on the execution provider chosen by {@link RuntimeOptions}. When CUDA is asked
 * for but this ONNX Runtime build or machine has none, it either fails with a message saying how to get it or,
 * if {@code fallbackToCpu} is set, logs a warning and uses the CPU.
 */
public final class SessionFactory {

    private static final Logger LOG = Logger.getLogger(SessionFactory.class.getName());

    private final OrtEnvironment env;
    private final RuntimeOptions options;
    private final String provider;

    public SessionFactory(RuntimeOptions options) {
        this.options = options.validate();
        this.env = OrtEnvironment.getEnvironment();
        this.provider = resolveProvider();
    }

    /** The provider sessions actually run on: {@code cpu} or {@code cuda:<device>}. */
    public String provider() {
        return provider;
    }

    public OrtEnvironment environment() {
        return env;
    }

    public RuntimeOptions options() {
        return options;
    }

    private String resolveProvider() {
        if (!options.cuda()) return "cpu";
        boolean available = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
        if (available) return "cuda:" + options.deviceId();
        String why = "the CUDA execution provider is not available in this ONNX Runtime build "
                + "(available: " + OrtEnvironment.getAvailableProviders() + "); build with -Pgpu (onnxruntime_gpu, "
                + "needs CUDA 12 and cuDNN 9 on the host)";
        if (!options.fallbackToCpu()) {
            throw new IllegalStateException(RuntimeOptions.PREFIX + "execution-provider=cuda: " + why
                    + ", or set " + RuntimeOptions.PREFIX + "fallback-to-cpu=true");
        }
        LOG.warning(why + "; falling back to CPU because " + RuntimeOptions.PREFIX + "fallback-to-cpu=true");
        return "cpu";
    }

    /** Opens a graph file; external data files next to it are found by ONNX Runtime. */
    public OrtSession open(Path graph) throws OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (options.intraOpThreads() > 0) so.setIntraOpNumThreads(options.intraOpThreads());
            if (options.interOpThreads() > 0) so.setInterOpNumThreads(options.interOpThreads());
            if (!options.allowSpinning()) {
                so.addConfigEntry("session.intra_op.allow_spinning", "0");
                so.addConfigEntry("session.inter_op.allow_spinning", "0");
            }
            if (provider.startsWith("cuda")) {
                try {
                    so.addCUDA(options.deviceId());
                } catch (OrtException e) {
                    if (!options.fallbackToCpu()) {
                        throw new IllegalStateException("CUDA device " + options.deviceId() + " could not be used: "
                                + e.getMessage() + "; check the driver and " + RuntimeOptions.PREFIX + "device-id, or set "
                                + RuntimeOptions.PREFIX + "fallback-to-cpu=true", e);
                    }
                    LOG.warning("CUDA device " + options.deviceId() + " unusable (" + e.getMessage()
                            + "); running " + graph.getFileName() + " on CPU");
                }
            }
            return env.createSession(graph.toString(), so);
        }
    }
}
