package io.qwenaudio.checkpoint;

/**
 * {@code audio_config} of a Qwen2-Audio checkpoint (transformers {@code Qwen2AudioEncoderConfig}); absent fields
 * take the transformers defaults (d_model 1280, 32 layers, 20 heads, ffn 5120, 128 mel bins, 1500 positions, gelu).
 * LayerNorm eps is fixed at 1e-5 by the model code (PyTorch {@code nn.LayerNorm} default).
 */
public record AudioEncoderConfig(
        int dModel,
        int encoderLayers,
        int encoderAttentionHeads,
        int encoderFfnDim,
        int numMelBins,
        int maxSourcePositions,
        String activationFunction,
        boolean scaleEmbedding) {

    public static final double LAYER_NORM_EPS = 1e-5;

    public int headDim() {
        return dModel / encoderAttentionHeads;
    }
}
