package io.qwenaudio.diagnostics;

/**
 * How much a diagnostics report may hold, so that its size does not grow with the clip: every map and curve is
 * averaged down on the server to these sizes, and the two costly panels are computed only up to a length.
 *
 * @param melCells             log-mel values over all windows together (each window gets an equal share of columns)
 * @param melColumns           columns (time) per window at most; 3000 frames are averaged into them
 * @param encoderTokens        rows (tokens) of the encoder heat map
 * @param encoderChannels      columns (channels) of the encoder heat map
 * @param seriesPoints         points of a per-token curve (token norm, gate, relative change)
 * @param attentionSide        rows and columns of one attention map (queries x keys)
 * @param attentionTokens      clips with more audio tokens get no attention maps (the diagnostics graph holds
 *                             {@code heads x N x N} values per layer)
 * @param hiddenStatePositions prompts with more positions get no hidden-state panel (the no-decode pass keeps
 *                             {@code (layers + 1) x S x hidden} values)
 * @param hiddenStateColumns   columns (positions) of the hidden-state norm map
 */
public record DiagnosticsLimits(int melCells, int melColumns, int encoderTokens, int encoderChannels, int seriesPoints,
                                int attentionSide, int attentionTokens, int hiddenStatePositions, int hiddenStateColumns) {

    /** About 1 MB of JSON at most, for any clip length. */
    public static final DiagnosticsLimits DEFAULT = new DiagnosticsLimits(160_000, 600, 256, 128, 1000, 96, 1500, 2048, 256);

    /**
     * Checks every value; the message names the setting in kebab case (e.g. {@code mel-cells}).
     *
     * @throws IllegalArgumentException for a value below 1
     */
    public DiagnosticsLimits validate() {
        positive("mel-cells", melCells);
        positive("mel-columns", melColumns);
        positive("encoder-tokens", encoderTokens);
        positive("encoder-channels", encoderChannels);
        positive("series-points", seriesPoints);
        positive("attention-side", attentionSide);
        positive("attention-tokens", attentionTokens);
        positive("hidden-state-positions", hiddenStatePositions);
        positive("hidden-state-columns", hiddenStateColumns);
        return this;
    }

    private static void positive(String key, int v) {
        if (v < 1) throw new IllegalArgumentException(key + " must be >= 1, got " + v);
    }
}
