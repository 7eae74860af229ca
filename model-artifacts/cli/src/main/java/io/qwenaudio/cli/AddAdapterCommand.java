package io.qwenaudio.cli;

import io.qwenaudio.converter.Converter;
import io.qwenaudio.artifacts.Manifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio add-adapter <artifacts-dir> NAME=<adapter-dir> [--force]}: convert one more domain adapter into
 * artifacts; an adapter of the same name is replaced only with {@code --force}.
 */
@Command(name = "add-adapter", mixinStandardHelpOptions = true,
        description = "Convert a domain adapter into an existing artifacts directory and update manifest.json.")
final class AddAdapterCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "<artifacts-dir>", description = "Made by 'qwen-audio convert'.")
    Path artifacts;

    @Parameters(index = "1", paramLabel = "NAME=<adapter-dir>", description = "adapter_config.json + adapter.safetensors.")
    String adapter;

    @Option(names = "--force", description = "Replace an adapter of the same name that the artifacts already have.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        CliFiles.requireDirectory(artifacts, "artifacts directory");
        Map.Entry<String, Path> a = ConvertCommand.parseAdapters(List.of(adapter)).entrySet().iterator().next();
        Manifest m = Manifest.read(artifacts);
        boolean exists = (m.adapters() != null && m.adapters().containsKey(a.getKey()))
                || Files.exists(artifacts.resolve("adapters").resolve(a.getKey()));
        if (exists && !force) {
            throw new UserInputException("adapter '" + a.getKey() + "' already exists in " + artifacts
                    + "; pass --force to replace it");
        }
        new Converter(System.err).addAdapter(artifacts, a.getKey(), a.getValue());
        return 0;
    }
}
