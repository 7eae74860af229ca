package io.qwenaudio.checkpoint;

/**
 * {@code text_config} of a Qwen2-Audio checkpoint (transformers {@code Qwen2Config}); absent fields take the
 * transformers defaults.
 */
public record TextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        String hiddenAct,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        Integer bosTokenId,
        Integer eosTokenId) {
}
