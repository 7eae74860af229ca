package io.qwenaudio.encoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.runtime.MicroBatcher;
import io.qwenaudio.tensor.FloatTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.IntConsumer;

/**
 * The audio encoder stage ({@code audio_tower}) on ONNX Runtime: log-mel windows in, hidden states of the valid
 * audio tokens out. Windows of concurrent requests are micro-batched into one session run.
 *
 * <pre>
 * input_features [B,128,3000] + mel_lengths [B] ─▶ audio_encoder.onnx ─▶ last_hidden_state [B,750,d]
 * per window keep the first N = ((M-1)/2+1 - 2)/2 + 1 rows; a clip's windows are concatenated ─▶ [N_total, d]
 * </pre>
 *
 * Thread-safe; one instance per loaded graph, shared by all requests.
 */
public final class AudioEncoder implements AutoCloseable {

    public static final String INPUT_FEATURES = "input_features";
    public static final String INPUT_MEL_LENGTHS = "mel_lengths";
    public static final String OUTPUT = "last_hidden_state";
    /** Encoder positions per 30 s window after the stride-2 conv and the 2x average pool. */
    public static final int POSITIONS = 750;

    private record Window(float[] features, int melLength) {
    }

    private final OrtEnvironment env;
    private final OrtSession session;
    private final int dModel;
    private final MicroBatcher<Window, float[]> batcher;
    private final int capacity;

    /**
     * @param session   the {@code audio_encoder.onnx} session (owned: closed with this encoder)
     * @param dModel    encoder width (1280 for Qwen2-Audio)
     * @param batching  micro-batching settings
     * @param batchSizes told the size of every batch run (metrics); may be null
     */
    public AudioEncoder(OrtEnvironment env, OrtSession session, int dModel, Batching batching, IntConsumer batchSizes) {
        this.env = env;
        this.session = session;
        this.dModel = dModel;
        this.capacity = batching.maxQueue() + batching.maxBatch() * batching.workers();
        this.batcher = new MicroBatcher<>("audio-encoder", batching.maxBatch(), batching.maxWait(),
                batching.maxQueue(), batching.workers(), this::runBatch, batchSizes);
    }

    /** Micro-batching settings: largest batch, how long a window waits for company, queue bound, parallel runs. */
    public record Batching(int maxBatch, Duration maxWait, int maxQueue, int workers) {
        public static Batching none() {
            return new Batching(1, Duration.ZERO, 1024, 1);
        }
    }

    public int dModel() {
        return dModel;
    }

    /** Windows the encoder holds at most: those allowed to wait plus those being run. */
    public int capacity() {
        return capacity;
    }

    /**
     * Number of valid audio tokens for a window with {@code melLength} valid mel frames, as transformers'
     * {@code _get_feat_extract_output_lengths} computes it with Python floor division: 0 for fewer than 3 frames.
     */
    public static int validTokens(int melLength) {
        int l1 = Math.floorDiv(melLength - 1, 2) + 1;
        return Math.floorDiv(l1 - 2, 2) + 1;
    }

    /** Encodes every window of a clip and concatenates the valid tokens: {@code [N, d]}. */
    public FloatTensor encode(Features features) {
        int w = features.windows();
        List<Window> windows = new ArrayList<>(w);
        for (int i = 0; i < w; i++) windows.add(new Window(features.window(i), features.melLength(i)));
        List<CompletableFuture<float[]>> parts = batcher.submitAll(windows); // all windows admitted, or none
        int total = 0;
        int[] n = new int[w];
        for (int i = 0; i < w; i++) total += n[i] = validTokens(features.melLength(i));
        float[] out = new float[total * dModel]; // [N, d]
        int at = 0;
        for (int i = 0; i < w; i++) {
            float[] h = join(parts.get(i)); // [750, d]
            System.arraycopy(h, 0, out, at, n[i] * dModel);
            at += n[i] * dModel;
        }
        return FloatTensor.of(out, total, dModel);
    }

    private static float[] join(CompletableFuture<float[]> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the audio encoder", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException("audio encoder failed: " + e.getCause(), e.getCause());
        }
    }

    /** One session run over B windows: [B,128,3000] -> [B,750,d]; returns each item's [750*d]. */
    private List<float[]> runBatch(List<Window> batch) throws OrtException {
        int b = batch.size();
        int per = FeatureExtractor.N_MELS * FeatureExtractor.FRAMES;
        FloatBuffer feats = ByteBuffer.allocateDirect(b * per * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        LongBuffer lens = ByteBuffer.allocateDirect(b * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
        for (Window w : batch) {
            feats.put(w.features()); // [128, 3000]
            lens.put(w.melLength());
        }
        feats.rewind();
        lens.rewind();
        try (OnnxTensor x = OnnxTensor.createTensor(env, feats, new long[] {b, FeatureExtractor.N_MELS, FeatureExtractor.FRAMES});
             OnnxTensor m = OnnxTensor.createTensor(env, lens, new long[] {b});
             OrtSession.Result r = session.run(Map.of(INPUT_FEATURES, x, INPUT_MEL_LENGTHS, m))) {
            FloatBuffer h = ((OnnxTensor) r.get(OUTPUT).orElseThrow()).getFloatBuffer(); // [B, 750, d]
            List<float[]> out = new ArrayList<>(b);
            for (int i = 0; i < b; i++) {
                float[] one = new float[POSITIONS * dModel];
                h.get(one);
                out.add(one);
            }
            return out;
        }
    }

    /** Runs one silent full window through the session so that the first request does not pay for set-up. */
    public void warmup() throws OrtException {
        float[] silence = FeatureExtractor.extract(new float[FeatureExtractor.WINDOW_SAMPLES]).window(0); // [128, 3000]
        runBatch(List.of(new Window(silence, FeatureExtractor.FRAMES)));
    }

    /** Windows waiting for the encoder now. */
    public int queued() {
        return batcher.queued();
    }

    @Override
    public void close() throws OrtException {
        batcher.close();
        session.close();
    }
}
