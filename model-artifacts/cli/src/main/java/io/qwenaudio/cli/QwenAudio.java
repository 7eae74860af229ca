package io.qwenaudio.cli;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.audio.InvalidAudioException;
import io.qwenaudio.checkpoint.CheckpointException;
import io.qwenaudio.tensor.Npy;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.List;

/**
 * The {@code qwen-audio} command line: one subcommand per job. Exit codes: 0 success, 2 bad input (a one-line
 * reason on stderr), 1 an unexpected failure (with the stack trace when {@code QWEN_AUDIO_DEBUG=1}).
 */
@Command(name = "qwen-audio", mixinStandardHelpOptions = true, version = "qwen-audio 0.1.0",
        description = "Qwen2-Audio tools: audio features, checkpoint inspection and conversion, encoding, generation.",
        subcommands = {CommandLine.HelpCommand.class, FeaturesCommand.class, DemoCommand.class, DemoModelCommand.class, InspectCommand.class, MakeTinyCommand.class, ConvertCommand.class, EncodeCommand.class,
                AddAdapterCommand.class, GenerateCommand.class})
public final class QwenAudio implements Runnable {

    /** Exit code for bad input: unreadable or invalid files, options out of range. */
    public static final int EXIT_BAD_INPUT = 2;

    /** Exceptions that mean "the input was wrong", reported in one line with exit code 2. */
    private static final List<Class<? extends Exception>> BAD_INPUT = List.of(
            UserInputException.class, InvalidAudioException.class, CheckpointException.class, ArtifactsException.class,
            Npy.NpyFormatException.class, NoSuchFileException.class, AccessDeniedException.class,
            FileAlreadyExistsException.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line with the project's error handling; tests call {@code execute} on it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new QwenAudio());
        cl.setExecutionExceptionHandler(QwenAudio::handle);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("qwen-audio " + cmd.getCommandName() + ": " + ex.getMessage().replace('\n', ' ')
                    + " (see --help)");
            cmd.getErr().flush();
            return EXIT_BAD_INPUT;
        });
        return cl;
    }

    private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        String name = "qwen-audio " + cmd.getCommandName();
        for (Class<? extends Exception> c : BAD_INPUT) {
            if (c.isInstance(e)) {
                String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                if (e instanceof NoSuchFileException) msg = "file not found: " + msg;
                if (e instanceof AccessDeniedException) msg = "permission denied: " + msg;
                if (e instanceof FileAlreadyExistsException) msg = "already exists: " + msg;
                err.println(name + ": " + msg.replace('\n', ' '));
                err.flush();
                return EXIT_BAD_INPUT;
            }
        }
        err.println(name + ": failed: " + e);
        if ("1".equals(System.getenv("QWEN_AUDIO_DEBUG"))) e.printStackTrace(err);
        else err.println("(set QWEN_AUDIO_DEBUG=1 for the stack trace)");
        err.flush();
        return 1;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
