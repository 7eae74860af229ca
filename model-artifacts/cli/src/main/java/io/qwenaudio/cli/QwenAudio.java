package io.qwenaudio.cli;

import io.qwenaudio.artifacts.ArtifactsException;
import io.qwenaudio.audio.InvalidAudioException;
import io.qwenaudio.checkpoint.CheckpointException;
import io.qwenaudio.events.PayloadException;
import io.qwenaudio.generate.InvalidGenerationException;
import io.qwenaudio.generate.NonFiniteLogitsException;
import io.qwenaudio.stages.StageException;
import io.qwenaudio.tensor.Npy;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code qwen-audio} command line: one subcommand per job. Exit codes: 0 success, 2 bad input (a one-line
 * reason on stderr), 1 an unexpected failure (with the stack trace when {@code QWEN_AUDIO_DEBUG=1}, which also turns
 * on the INFO progress log).
 */
@Command(name = "qwen-audio", mixinStandardHelpOptions = true, version = "qwen-audio 0.1.0",
        description = "Qwen2-Audio tools: audio features, checkpoint inspection and conversion, encoding, generation.",
        subcommands = {CommandLine.HelpCommand.class, FeaturesCommand.class, DemoCommand.class, DemoModelCommand.class, InspectCommand.class, MakeTinyCommand.class, ConvertCommand.class, EncodeCommand.class,
                AddAdapterCommand.class, GenerateCommand.class, BenchCommand.class})
public final class QwenAudio implements Callable<Integer> {

    /** Exit code for bad input: unreadable or invalid files, options out of range. */
    public static final int EXIT_BAD_INPUT = 2;

    /** Exceptions that mean "the input was wrong", reported in one line with exit code 2. */
    private static final List<Class<? extends Exception>> BAD_INPUT = List.of(
            UserInputException.class, InvalidAudioException.class, CheckpointException.class, ArtifactsException.class,
            Npy.NpyFormatException.class, InvalidGenerationException.class, NonFiniteLogitsException.class,
            PayloadException.class, StageException.class, FileSystemException.class);

    /**
     * DJL (the tokenizer's native library loader) logs through SLF4J, routed to java.util.logging: its INFO lines and
     * the CUDA probe's "Failed to detect GPU count" warning (it looks for a CUDA build of the tokenizer, which this
     * project never uses: ONNX Runtime does the compute) are noise on the command line. Held so they stay configured.
     */
    private static final Logger DJL = Logger.getLogger("ai.djl");
    private static final Logger DJL_CUDA = Logger.getLogger("ai.djl.util.cuda");
    private static final Logger QWEN_AUDIO = Logger.getLogger("io.qwenaudio");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No subcommand: the usage on stderr and exit code 2. */
    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        err.println("qwen-audio: a command is required");
        spec.commandLine().usage(err);
        err.flush();
        return EXIT_BAD_INPUT;
    }

    /** Builds the command line with the project's error handling; tests call {@code execute} on it. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new QwenAudio());
        cl.setExecutionExceptionHandler(QwenAudio::handle);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(ex.getMessage()) + " (see --help)");
            cmd.getErr().flush();
            return EXIT_BAD_INPUT;
        });
        return cl;
    }

    private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();  // "qwen-audio encode"
        for (Class<? extends Exception> c : BAD_INPUT) {
            if (c.isInstance(e)) {
                String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                if (e instanceof FileSystemException f) msg = fileProblem(f);
                if (e instanceof InvalidGenerationException) msg = GenerateCommand.flagNames(msg);
                if (e instanceof ArtifactsException && msg.contains(" says ") && cmd.getCommandSpec().findOption("--no-verify") != null) {
                    String hint = "(or pass --no-verify if you changed it on purpose)";
                    String named = msg.replace("(or turn checksum verification off if you changed it on purpose)", hint);
                    msg = named.equals(msg) ? msg + " " + hint : named;
                }
                err.println(name + ": " + oneLine(msg));
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

    /** What went wrong with a file, in words: "file not found: x.npy", "directory does not exist: /a/b", ... */
    static String fileProblem(FileSystemException f) {
        String file = f.getFile() == null ? "" : f.getFile();
        if (f instanceof NoSuchFileException) {
            Path p = Path.of(file).toAbsolutePath();
            Path parent = p.getParent();
            if (parent != null && !Files.isDirectory(parent)) return "directory does not exist: " + parent + " (for " + file + ")";
            return "file not found: " + file;
        }
        if (f instanceof AccessDeniedException) return "permission denied: " + file;
        if (f instanceof FileAlreadyExistsException) return "already exists: " + file;
        if (f instanceof NotDirectoryException) return "not a directory: " + file;
        return "cannot use " + file + (f.getReason() == null ? "" : ": " + f.getReason());
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace("\r", " ").replace('\n', ' ');
    }

    /**
     * The command line's log levels: progress logs (e.g. "verified [decoder.onnx] in 0.1 s") only with
     * {@code QWEN_AUDIO_DEBUG=1}, since a command's own output is its summary line and a bad input is one line; DJL
     * at WARNING, its CUDA probe at SEVERE.
     */
    static void quietLogs() {
        QWEN_AUDIO.setLevel("1".equals(System.getenv("QWEN_AUDIO_DEBUG")) ? Level.INFO : Level.WARNING);
        DJL.setLevel(Level.WARNING);
        DJL_CUDA.setLevel(Level.SEVERE);
    }

    public static void main(String[] args) {
        quietLogs();
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {   // picocli hands Exceptions to the handler, not Errors
            System.err.println("qwen-audio: out of memory (" + e.getMessage() + "); give the JVM more heap, e.g. "
                    + "QWEN_AUDIO_JAVA_OPTS=-Xmx8g");
            code = 1;
        }
        System.exit(code);
    }
}
