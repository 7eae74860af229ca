package io.qwenaudio.cli;

import io.qwenaudio.checkpoint.Checkpoint;
import io.qwenaudio.checkpoint.Inspect;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio inspect <checkpoint-dir>}: the 8-step structure report of a Hugging Face Qwen2-Audio
 * checkpoint (model class, modules, audio encoder, language model, config, module tree with parameter counts,
 * LoRA-able Linears, encoding strategy), read from config.json and the safetensors headers only.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Report the structure of a Hugging Face Qwen2-Audio checkpoint (no weights are loaded).")
final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "<checkpoint-dir>",
            description = "Directory with config.json and model.safetensors or model.safetensors.index.json + shards.")
    Path dir;

    @Option(names = "--json", description = "Print the report as one JSON document.")
    boolean json;

    @Option(names = "--depth", defaultValue = "4", paramLabel = "<n>",
            description = "Depth of the module tree (default: ${DEFAULT-VALUE}).")
    int depth;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CliFiles.requireDirectory(dir, "checkpoint directory");
        if (depth < 1) throw new UserInputException("--depth must be at least 1, got " + depth);
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint cp = Checkpoint.open(dir)) {
            Inspect report = Inspect.of(cp, depth);
            out.print(json ? report.toJsonString() + "\n" : report.toText());
        }
        out.flush();
        return 0;
    }
}
