package io.qwenaudio.checkpoint;

/**
 * A Qwen2-Audio {@code config.json} ({@code Qwen2AudioConfig}): nested audio and text configs plus the audio
 * placeholder token id. {@code rawJson} keeps the file as read, for the artifacts manifest.
 */
public record Qwen2AudioConfig(
        String modelType,
        AudioEncoderConfig audio,
        TextConfig text,
        int audioTokenIndex,
        String rawJson) {
}
