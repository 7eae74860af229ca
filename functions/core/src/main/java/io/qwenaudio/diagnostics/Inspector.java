package io.qwenaudio.diagnostics;

import ai.onnxruntime.OrtException;
import io.qwenaudio.adapter.DomainAdapter;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.events.Wire;
import io.qwenaudio.generate.ContextOverflowException;
import io.qwenaudio.stages.AdaptStage;
import io.qwenaudio.stages.EncodeStage;
import io.qwenaudio.stages.FiniteValues;
import io.qwenaudio.stages.GenerateStage;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.text.PromptBuilder;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Looks inside the pipeline for one clip: runs the same stage objects the serving path runs (encode, the domain
 * adapter of the environment, the no-decode forward pass of the generator) and keeps what each made, reduced to
 * the sizes of {@link DiagnosticsLimits}. The attention maps come from the adapter's diagnostics graph, which only
 * this class opens. Thread-safe.
 *
 * <pre>
 * audio ─ EncodeStage ─ Features (log-mel per window) ─▶ Mel panel
 *                     ─ [N, d] ─▶ Encoder panel, pooled embedding
 *                            ─ DomainAdapter ─ gate [N, 1|d], adapted [N, d] ─▶ Adapter panel (gate, |out-x|/|x|)
 *                            ─ AdapterDiagnostics ─ attention [H, N, N] per layer ─▶ Adapter panel (attention)
 *                            ─ GenerateStage.hiddenStates ─ (L+1) x [S, H] ─▶ HiddenStates panel (norms)
 * </pre>
 */
public final class Inspector {

    /** The diagnostics graph of an environment's adapter, opened on first use by the caller's policy. */
    @FunctionalInterface
    public interface AdapterGraphs {
        AdapterDiagnostics forEnvironment(String environment) throws OrtException;
    }

    /** Runs decoder work under the caller's admission rules (e.g. the generation slots). */
    @FunctionalInterface
    public interface DecoderSlots {
        <T> T run(Supplier<T> work);
    }

    /**
     * What to look at.
     *
     * @param environment  the domain adapter to apply (null, empty or {@code none}: no adapter)
     * @param prompt       the prompt of the no-decode pass (prompt, system or raw_prompt), as for generation
     * @param attention    compute the adapter's attention maps
     * @param hiddenStates run the no-decode pass for the hidden-state norms
     */
    public record Request(String environment, Wire.GenerateParams prompt, boolean attention, boolean hiddenStates) {
    }

    private final EncodeStage encode;
    private final AdaptStage adapt;
    private final GenerateStage generate;
    private final AdapterGraphs graphs;
    private final DecoderSlots slots;
    private final DiagnosticsLimits limits;

    public Inspector(EncodeStage encode, AdaptStage adapt, GenerateStage generate, AdapterGraphs graphs,
                     DecoderSlots slots, DiagnosticsLimits limits) {
        this.encode = encode;
        this.adapt = adapt;
        this.generate = generate;
        this.graphs = graphs;
        this.slots = slots;
        this.limits = limits.validate();
    }

    public DiagnosticsLimits limits() {
        return limits;
    }

    /** The report for one audio file (WAV, FLAC or MP3). */
    public Report inspect(byte[] audio, Request r, String requestId) {
        long t0 = System.nanoTime();
        EncodeStage.Encoded e = encode.encodeAudio(audio, false); // the hidden-state panel checks the context itself
        FloatTensor h = e.hidden();                                                        // [N, d]
        int n = (int) h.dim(0), d = (int) h.dim(1);
        Report.Mel mel = mel(e.features(), limits);
        Report.Encoder enc = encoder(h, limits);
        float[] embedding = meanPool(h.data(), n, d);                                      // [d]

        FloatTensor clip = h;
        Report.Adapter adapter = null;
        Double adaptMs = null, attentionMs = null, hiddenMs = null;
        String env = r.environment();
        if (env != null && !env.isEmpty() && !env.equalsIgnoreCase(AdaptStage.NONE)) {
            DomainAdapter a = adapt.adapter(env);
            FiniteValues.require("hidden", h);
            long t1 = System.nanoTime();
            DomainAdapter.Outputs out;
            try {
                out = a.run(h);
            } catch (OrtException ex) {
                throw new IllegalStateException("adapter '" + env + "' failed: " + ex.getMessage(), ex);
            }
            adaptMs = ms(System.nanoTime() - t1);
            Report.Attention attention = null;
            String skipped = null;
            if (!r.attention()) {
                skipped = "not requested";
            } else if (n > limits.attentionTokens()) {
                skipped = String.format(Locale.ROOT, "the clip has %d audio tokens; attention maps are computed for at most %d "
                        + "(about %d s of audio; qwen-audio.diagnostics.attention-tokens)", n, limits.attentionTokens(),
                        Math.round(limits.attentionTokens() / 25.0));
            } else {
                long t2 = System.nanoTime();
                attention = attention(env, h);
                attentionMs = ms(System.nanoTime() - t2);
            }
            adapter = adapter(env, h, out, attention, skipped, limits);
            clip = out.adapted();
        }

        Report.HiddenStates hidden = null;
        String hiddenSkipped = null;
        if (r.hiddenStates()) {
            PromptBuilder.Prompt prompt = generate.prompt(r.prompt(), new int[] {n});
            int context = generate.generator().manifest().text().maxPositionEmbeddings();
            if (prompt.length() > context) {
                hiddenSkipped = "the prompt takes " + prompt.length() + " positions (" + n + " of them audio); the model's "
                        + "context is " + context;
            } else if (prompt.length() > limits.hiddenStatePositions()) {
                hiddenSkipped = "the prompt takes " + prompt.length() + " positions (" + n + " of them audio); hidden states "
                        + "are computed for at most " + limits.hiddenStatePositions()
                        + " (qwen-audio.diagnostics.hidden-state-positions)";
            } else {
                long t3 = System.nanoTime();
                FloatTensor c = clip;
                try {
                    List<FloatTensor> states = slots.run(() -> generate.hiddenStates(List.of(c), r.prompt()));
                    hidden = hiddenStates(states, prompt.audioStart()[0], prompt.audioLength()[0], limits);
                } catch (ContextOverflowException ex) {
                    hiddenSkipped = ex.getMessage();
                }
                hiddenMs = ms(System.nanoTime() - t3);
            }
        } else {
            hiddenSkipped = "not requested";
        }
        Report.Timings t = new Report.Timings(e.decodeMs(), e.featuresMs(), e.encodeMs(), adaptMs, attentionMs, hiddenMs,
                ms(System.nanoTime() - t0));
        return new Report(requestId, e.features().durationSeconds(), e.features().windows(), n, d, mel, enc, embedding,
                adapter, hidden, hiddenSkipped, t);
    }

    private Report.Attention attention(String env, FloatTensor x) {
        AdapterDiagnostics.Outputs o;
        try {
            o = graphs.forEnvironment(env).run(x);
        } catch (OrtException ex) {
            throw new IllegalStateException("the diagnostics graph of adapter '" + env + "' failed: " + ex.getMessage(), ex);
        }
        int n = (int) x.dim(0);
        List<List<HeatMap>> maps = new ArrayList<>();
        int heads = 0;
        for (FloatTensor a : o.attention()) {                                              // [H, N, N]
            heads = (int) a.dim(0);
            List<HeatMap> layer = new ArrayList<>(heads);
            for (int hd = 0; hd < heads; hd++) {
                layer.add(HeatMap.of(a.data(), hd * n * n, n, n, limits.attentionSide(), limits.attentionSide()));
            }
            maps.add(layer);
        }
        return new Report.Attention(maps.size(), heads, n, maps);
    }

    // ---- the panels, each a pure function of the stage outputs ----

    /** Each window's [128, 3000] log-mel map averaged in time to an equal share of {@code melCells}. */
    static Report.Mel mel(Features f, DiagnosticsLimits limits) {
        int w = f.windows(), mels = FeatureExtractor.N_MELS, frames = FeatureExtractor.FRAMES;
        int cols = Math.max(1, Math.min(limits.melColumns(), limits.melCells() / (w * mels)));
        List<Report.MelWindow> out = new ArrayList<>(w);
        for (int i = 0; i < w; i++) {
            out.add(new Report.MelWindow(i, f.melLength(i), HeatMap.of(f.window(i), mels, frames, mels, cols)));
        }
        return new Report.Mel(mels, frames, out);
    }

    /** The encoder output as a tokens x channels map and the norm of each token. */
    static Report.Encoder encoder(FloatTensor h, DiagnosticsLimits limits) {
        int n = (int) h.dim(0), d = (int) h.dim(1);
        HeatMap map = HeatMap.of(h.data(), n, d, limits.encoderTokens(), limits.encoderChannels());
        return new Report.Encoder(map, Series.of(rowNorms(h.data(), n, d), limits.seriesPoints()));
    }

    /** Gate per token (mean over channels for a channel gate) and |out - x| / |x| per token. */
    static Report.Adapter adapter(String env, FloatTensor x, DomainAdapter.Outputs out, Report.Attention attention,
                                  String attentionSkipped, DiagnosticsLimits limits) {
        int n = (int) x.dim(0), d = (int) x.dim(1);
        float[] xs = x.data(), ys = out.adapted().data(), g = out.gate().data();       // [N, d], [N, d], [N, gw]
        int gw = (int) out.gate().dim(1);
        float[] gate = new float[n], change = new float[n];
        double gsum = 0, gmin = Double.MAX_VALUE, gmax = -Double.MAX_VALUE, dd = 0, xx = 0;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int c = 0; c < gw; c++) {
                float v = g[i * gw + c];
                s += v;
                gmin = Math.min(gmin, v);
                gmax = Math.max(gmax, v);
            }
            gsum += s;
            gate[i] = (float) (s / gw);
            double di = 0, xi = 0;
            for (int c = 0; c < d; c++) {
                double diff = (double) ys[i * d + c] - xs[i * d + c];
                di += diff * diff;
                xi += (double) xs[i * d + c] * xs[i * d + c];
            }
            change[i] = xi == 0 ? 0f : (float) Math.sqrt(di / xi);
            dd += di;
            xx += xi;
        }
        boolean none = n == 0;
        return new Report.Adapter(env, gw, Series.of(gate, limits.seriesPoints()), Series.of(change, limits.seriesPoints()),
                none ? 0 : gsum / ((double) n * gw), none ? 0 : gmin, none ? 0 : gmax, xx == 0 ? 0 : Math.sqrt(dd / xx),
                attention, attentionSkipped);
    }

    /** Norms of every hidden state at every position; means over the audio and the text positions per layer. */
    static Report.HiddenStates hiddenStates(List<FloatTensor> states, int audioStart, int audioLength,
                                            DiagnosticsLimits limits) {
        int layers = states.size();
        int s = (int) states.get(0).dim(0), hid = (int) states.get(0).dim(1);
        float[] norms = new float[layers * s];                                             // [L+1, S]
        float[] audio = new float[layers], text = new float[layers];
        int textCount = s - audioLength;
        for (int l = 0; l < layers; l++) {
            float[] r = rowNorms(states.get(l).data(), s, hid);
            System.arraycopy(r, 0, norms, l * s, s);
            double a = 0, t = 0;
            for (int p = 0; p < s; p++) {
                if (p >= audioStart && p < audioStart + audioLength) a += r[p];
                else t += r[p];
            }
            audio[l] = audioLength == 0 ? 0f : (float) (a / audioLength);
            text[l] = textCount == 0 ? 0f : (float) (t / textCount);
        }
        return new Report.HiddenStates(layers, s, audioStart, audioLength, audio, text,
                HeatMap.of(norms, layers, s, layers, limits.hiddenStateColumns()));
    }

    /** L2 norm of each row of {@code [n, d]}. */
    static float[] rowNorms(float[] x, int n, int d) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int c = 0; c < d; c++) ss += (double) x[i * d + c] * x[i * d + c];
            out[i] = (float) Math.sqrt(ss);
        }
        return out;
    }

    /** Mean over the rows of {@code [n, d]}: {@code [d]}. */
    static float[] meanPool(float[] x, int n, int d) {
        double[] s = new double[d];
        for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) s[c] += x[i * d + c];
        float[] out = new float[d];
        for (int c = 0; c < d; c++) out[c] = n == 0 ? 0f : (float) (s[c] / n);
        return out;
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }
}
