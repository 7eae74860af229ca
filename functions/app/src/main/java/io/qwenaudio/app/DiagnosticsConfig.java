package io.qwenaudio.app;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/**
 * {@code qwen-audio.diagnostics.*}: the diagnostics endpoint behind the playground page. The limits bound the size
 * of a report whatever the clip length (see {@link io.qwenaudio.diagnostics.DiagnosticsLimits}); the defaults keep
 * a report under about 1 MB.
 */
@ConfigMapping(prefix = "qwen-audio.diagnostics")
public interface DiagnosticsConfig {

    /** Serve {@code POST /v1/audio/diagnostics}; false answers 404 there (the page then shows no inside view). */
    @WithDefault("true")
    boolean enabled();

    /** Log-mel values over all windows together. */
    @WithName("mel-cells")
    @WithDefault("160000")
    int melCells();

    /** Time columns per 30 s window at most (of 3000 frames). */
    @WithName("mel-columns")
    @WithDefault("600")
    int melColumns();

    /** Token rows of the encoder heat map. */
    @WithName("encoder-tokens")
    @WithDefault("256")
    int encoderTokens();

    /** Channel columns of the encoder heat map. */
    @WithName("encoder-channels")
    @WithDefault("128")
    int encoderChannels();

    /** Points of a per-token curve. */
    @WithName("series-points")
    @WithDefault("1000")
    int seriesPoints();

    /** Rows and columns of one attention map. */
    @WithName("attention-side")
    @WithDefault("96")
    int attentionSide();

    /** Clips with more audio tokens (25 per second) get no attention maps. */
    @WithName("attention-tokens")
    @WithDefault("1500")
    int attentionTokens();

    /** Prompts with more positions get no hidden-state panel. */
    @WithName("hidden-state-positions")
    @WithDefault("2048")
    int hiddenStatePositions();

    /** Position columns of the hidden-state norm map. */
    @WithName("hidden-state-columns")
    @WithDefault("256")
    int hiddenStateColumns();
}
