package io.qwenaudio.diagnostics;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/**
 * What each stage made of one clip, reduced for drawing ({@link HeatMap}, {@link Series}). Panels that did not run
 * are absent; a panel skipped for its size says why in its {@code *_skipped} field.
 *
 * @param tokens    audio tokens N of the encoder output {@code [N, dModel]}
 * @param embedding the encoder output mean-pooled over tokens, {@code [dModel]} (as {@code /embed} pools it)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Report(String requestId, double durationSeconds, int windows, int tokens, int dModel, Mel mel,
                     Encoder encoder, float[] embedding, Adapter adapter, HiddenStates hiddenStates,
                     String hiddenStatesSkipped, Timings timings) {

    /** The Whisper log-mel features of each 30 s window: 128 mel bins x 3000 frames, averaged down in time. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Mel(int mels, int framesPerWindow, List<MelWindow> windows) {
    }

    /**
     * One window: {@code map} is mels (rows, low to high) x time; frames at and after {@code validFrames} are
     * padding.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record MelWindow(int index, int validFrames, HeatMap map) {
    }

    /** The encoder output {@code [N, d]} as tokens (rows) x channels, and the L2 norm of each token. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Encoder(HeatMap map, Series tokenNorms) {
    }

    /**
     * The domain adapter {@code out = x + scale * gate * delta} on this clip.
     *
     * @param gateWidth      1 (one gate per token) or d (per channel; {@code gate} is then the mean over channels)
     * @param gate           the gate per token
     * @param relativeChange |scale * gate * delta| / |x| per token (= |out - x| / |x|)
     * @param relativeDeltaNorm |out - x| / |x| over the whole clip
     * @param attention      every layer's attention maps (absent when skipped: see {@code attentionSkipped})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Adapter(String environment, int gateWidth, Series gate, Series relativeChange, double gateMean,
                          double gateMin, double gateMax, double relativeDeltaNorm, Attention attention,
                          String attentionSkipped) {
    }

    /** {@code maps.get(l).get(h)}: layer l, head h, queries (rows) x keys (columns) over the clip's tokens. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Attention(int layers, int heads, int tokens, List<List<HeatMap>> maps) {
    }

    /**
     * No-decode mode over the prompt: the L2 norm of every hidden state (the embeddings and each decoder layer's
     * output, {@code layers} in all) at each position.
     *
     * @param audioNorms mean norm over the audio positions {@code [audioStart, audioStart + audioLength)}, per layer
     * @param textNorms  mean norm over the other (text) positions, per layer
     * @param map        layers (rows) x positions (columns)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record HiddenStates(int layers, int positions, int audioStart, int audioLength, float[] audioNorms,
                               float[] textNorms, HeatMap map) {
    }

    /** Milliseconds per step of this report; steps that did not run are absent. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Timings(Double decodeMs, Double featuresMs, Double encodeMs, Double adaptMs, Double attentionMs,
                          Double hiddenStatesMs, Double totalMs) {
    }
}
