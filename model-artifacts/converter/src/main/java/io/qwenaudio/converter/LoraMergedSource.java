package io.qwenaudio.converter;

import io.qwenaudio.checkpoint.CheckpointException;
import io.qwenaudio.checkpoint.ForwardingTensorSource;
import io.qwenaudio.checkpoint.LoraAdapter;
import io.qwenaudio.checkpoint.SafetensorsFile;
import io.qwenaudio.checkpoint.TensorSource;

import java.util.Arrays;
import java.util.List;

/**
 * A checkpoint with PEFT LoRA adapters merged into its weights on read: {@code W' = W + scale * B @ A} for every
 * target Linear, adapters applied in the order given. Targets are checked up front: a module that does not exist
 * in the checkpoint, or whose shape does not match the LoRA matrices, is rejected by name.
 */
public final class LoraMergedSource extends ForwardingTensorSource {

    private final List<LoraAdapter> loras;

    public LoraMergedSource(TensorSource base, List<LoraAdapter> loras) {
        super(base);
        this.loras = List.copyOf(loras);
        for (LoraAdapter l : loras) check(l);
    }

    private void check(LoraAdapter lora) {
        List<String> unknown = lora.unknownTargets(base);
        if (!unknown.isEmpty()) {
            throw new CheckpointException("LoRA " + lora.directory() + " targets modules the checkpoint does not have: "
                    + unknown + "; the audio tower's Linear layers are q_proj, k_proj, v_proj, out_proj, fc1, fc2 "
                    + "(there is no o_proj in the audio tower)");
        }
        for (LoraAdapter.Target t : lora.targets().values()) {
            if (!t.module().startsWith("audio_tower.")) {
                throw new CheckpointException("LoRA " + lora.directory() + " targets " + t.module()
                        + ": only Linear layers of the audio tower can be merged at conversion");
            }
            long[] s = base.shape(t.weightName());
            if (s.length != 2 || s[0] != t.out() || s[1] != t.in()) {
                throw new CheckpointException("LoRA " + lora.directory() + " target " + t.module() + " is [out " + t.out()
                        + ", in " + t.in() + "] but the checkpoint weight " + t.weightName() + " is "
                        + Arrays.toString(s) + "; the LoRA was trained on a different model");
            }
        }
    }

    @Override
    public void streamFloats(String name, int chunkElements, SafetensorsFile.FloatChunkConsumer c) {
        boolean target = loras.stream().anyMatch(l -> l.targets().values().stream().anyMatch(t -> t.weightName().equals(name)));
        if (target) TensorSource.streamArray(floats(name), chunkElements, c); // merged in memory: targets are small
        else base.streamFloats(name, chunkElements, c);
    }

    @Override
    public float[] floats(String name) {
        float[] w = base.floats(name);
        for (LoraAdapter l : loras) {
            for (LoraAdapter.Target t : l.targets().values()) {
                if (!t.weightName().equals(name)) continue;
                float[] d = t.delta(); // [out, in] = scale * B @ A
                for (int i = 0; i < w.length; i++) w[i] += d[i];
            }
        }
        return w;
    }
}
