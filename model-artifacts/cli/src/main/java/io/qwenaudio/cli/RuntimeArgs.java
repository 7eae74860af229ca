package io.qwenaudio.cli;

import io.qwenaudio.runtime.ExecutionProvider;
import io.qwenaudio.runtime.RuntimeOptions;
import picocli.CommandLine.Option;

/**
 * The ONNX Runtime arguments of the commands that run the model ({@code encode}, {@code generate}, {@code bench}):
 * execution provider, checksum switch, IO binding.
 */
final class RuntimeArgs {

    @Option(names = "--execution-provider", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE}).")
    String executionProvider;

    @Option(names = "--no-verify", description = "Skip the sha256 check of the artifact files.")
    boolean noVerify;

    @Option(names = "--io-binding", defaultValue = "on", paramLabel = "on|off",
            description = "Decode through ONNX Runtime's IO binding, keeping the KV cache in the execution provider's "
                    + "memory (default: ${DEFAULT-VALUE}); off uses the plain Java API run.")
    String ioBinding;

    /** The session options these arguments ask for, without warm-up runs; a bad value is the user's error (exit 2). */
    RuntimeOptions options() {
        try {
            RuntimeOptions opts = RuntimeOptions.defaults().withExecutionProvider(ExecutionProvider.parse(executionProvider))
                    .withVerifyChecksums(!noVerify).withWarmup(false)
                    .withIoBinding(RuntimeOptions.onOff("io-binding", ioBinding));
            opts.validate();
            return opts;
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }
}
