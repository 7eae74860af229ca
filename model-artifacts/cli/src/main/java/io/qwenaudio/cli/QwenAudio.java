package io.qwenaudio.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code qwen-audio} command line: one subcommand per job. */
@Command(name = "qwen-audio", mixinStandardHelpOptions = true, version = "qwen-audio 0.1.0",
        description = "Qwen2-Audio tools: audio features, checkpoint inspection and conversion, encoding, generation.",
        subcommands = {CommandLine.HelpCommand.class})
public final class QwenAudio implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new QwenAudio()).execute(args));
    }
}
