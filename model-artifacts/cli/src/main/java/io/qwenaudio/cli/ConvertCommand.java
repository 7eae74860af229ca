package io.qwenaudio.cli;

import io.qwenaudio.converter.Converter;
import io.qwenaudio.converter.Dtype;
import io.qwenaudio.converter.GraphBuilder;
import io.qwenaudio.converter.GraphOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qwen-audio convert <checkpoint-dir> --out <artifacts-dir> [--dtype fp32|fp16|int8|int4|bf16]
 * [--graph-ops fused|standard] [--lora <peft-dir>]...
 * [--adapter NAME=<adapter-dir>]...}: a Hugging Face checkpoint to ONNX graphs plus manifest.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a Hugging Face Qwen2-Audio checkpoint to ONNX graphs + manifest.json.",
                "Progress goes to stderr; the output appears only when the conversion succeeded."})
final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "<checkpoint-dir>", description = "config.json + safetensors (+ tokenizer files).")
    Path checkpoint;

    @Option(names = "--out", required = true, paramLabel = "<artifacts-dir>", description = "Output directory (must not exist or be empty).")
    Path out;

    @Option(names = "--dtype", defaultValue = "fp32", paramLabel = "fp32|fp16|int8|int4|bf16",
            description = {"Precision (default: ${DEFAULT-VALUE}). fp16 with fused ops: float16 weights, activations and KV cache "
                    + "(other graph inputs/outputs stay float32); with standard ops: float16 storage, float32 compute.",
                    "int8/int4: the decoder's linear layers as MatMulNBits (block 32, lm_head 8-bit), needs fused ops.",
                    "bf16: like fp16 in bfloat16, for CUDA only (no CPU kernels; untested)."})
    String dtype;

    @Option(names = "--graph-ops", defaultValue = "fused", paramLabel = "fused|standard",
            description = "fused (default): ONNX Runtime contrib ops (fused norms, GroupQueryAttention, MatMulNBits in "
                    + "the decoder; MultiHeadAttention, SkipLayerNormalization in the audio encoder and adapters); "
                    + "standard: standard opset-17 ops only, for other runtimes.")
    String graphOps;

    @Option(names = "--lora", paramLabel = "<peft-dir>",
            description = "PEFT LoRA for the audio tower, merged as W + (alpha/r)·B·A; repeatable, applied in order.")
    List<Path> loras = new ArrayList<>();

    @Option(names = "--adapter", paramLabel = "NAME=<adapter-dir>", description = "Domain adapter to convert; repeatable.")
    List<String> adapters = new ArrayList<>();

    @Option(names = "--prompt-format", defaultValue = "chat", paramLabel = "chat|raw",
            description = {"How text prompts are formed (default: ${DEFAULT-VALUE}; recorded in manifest.json): chat = the "
                    + "checkpoint's chat template (ChatML when it has none); raw = for a base checkpoint (Qwen2-Audio-7B): "
                    + "<|audio_bos|><|AUDIO|><|audio_eos|> + the text, e.g. 'Describe the music:'."})
    String promptFormat;

    @Override
    public Integer call() throws Exception {
        Dtype precision = precision(dtype);
        GraphOps ops = graphOps(graphOps);
        CliFiles.requireDirectory(checkpoint, "checkpoint directory");
        if (!promptFormat.equals("chat") && !promptFormat.equals("raw")) {
            throw new UserInputException("--prompt-format " + promptFormat + " is not supported; accepted: chat, raw");
        }
        CliFiles.requireCreatableDirectory(out, "--out");
        new Converter(System.err).convert(new Converter.Options(checkpoint, out, precision, ops, loras,
                parseAdapters(adapters), promptFormat));
        System.out.println(out);
        return 0;
    }

    static GraphBuilder.WeightType weightType(String dtype) {
        return precision(dtype).weightType();
    }

    static Dtype precision(String dtype) {
        try {
            return Dtype.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }

    static GraphOps graphOps(String ops) {
        try {
            return GraphOps.parse(ops);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }

    static Map<String, Path> parseAdapters(List<String> specs) {
        Map<String, Path> out = new LinkedHashMap<>();
        for (String s : specs) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new UserInputException("--adapter '" + s + "' must be NAME=<adapter-dir>, e.g. ldv=adapters/ldv");
            }
            String name = s.substring(0, eq);
            if (out.put(name, CliFiles.requireDirectory(Path.of(s.substring(eq + 1)), "adapter directory")) != null) {
                throw new UserInputException("--adapter name '" + name + "' is given twice");
            }
        }
        return out;
    }
}
