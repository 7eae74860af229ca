package io.qwenaudio.stages;

import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.blobs.BlobStore;
import io.qwenaudio.events.PayloadException;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.OverloadedException;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;

import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.Semaphore;

/**
 * The encode stage: audio bytes -> 16 kHz mono -> log-mel windows -> audio encoder -> hidden states {@code [N, d]}
 * of the valid tokens, windows concatenated. Also the encode-only embedding service ({@link #embed}). Thread-safe:
 * concurrent calls share the encoder, whose micro-batcher groups their windows.
 */
public final class EncodeStage implements AutoCloseable {

    /** One clip through the encoder, with its step timings. */
    public record Encoded(FloatTensor hidden, Features features, double decodeMs, double featuresMs, double encodeMs) {
        public Wire.Timings timings() {
            return new Wire.Timings(decodeMs, featuresMs, encodeMs, null, null, null, null);
        }
    }

    private final AudioEncoder encoder;
    private final TensorCodec codec;
    private final AudioLimits limits;
    /** Requests between arrival and the end of their encoding, at most the encoder's capacity. */
    private final Semaphore admission;

    /** @param encoder owned: closed with this stage */
    public EncodeStage(AudioEncoder encoder, TensorCodec codec, AudioLimits limits) {
        this.encoder = encoder;
        this.codec = codec;
        this.limits = limits;
        this.admission = new Semaphore(encoder.capacity());
    }

    public int dModel() {
        return encoder.dModel();
    }

    /** Windows waiting for the encoder now. */
    public int queued() {
        return encoder.queued();
    }

    @Override
    public void close() throws ai.onnxruntime.OrtException {
        encoder.close();
    }

    /** {@code audio.received} -> {@code audio.encoded}. */
    public Wire.EncodedAudio encode(Wire.EncodeRequest r, String requestId) {
        if (r == null) throw StageException.badRequest("the body is empty; send {\"audio\": \"<base64 WAV/FLAC/MP3>\"}");
        Encoded e = encodeAudio(audioBytes(r.audio(), r.audioRef()));
        return new Wire.EncodedAudio(requestId, r.environment(), codec.encode(e.hidden()), e.features().windows(),
                e.features().durationSeconds(), null, e.timings(), r.generate());
    }

    /**
     * Decodes, featurises and encodes one clip: {@code [N, d]}. Admission comes first: past the encoder's capacity
     * a request is turned away at once ({@link OverloadedException}, 429) instead of holding its samples and
     * features in memory only to be refused by the encoder queue afterwards.
     */
    public Encoded encodeAudio(byte[] audio) {
        if (!admission.tryAcquire()) {
            throw new OverloadedException("encode is overloaded: " + encoder.capacity()
                    + " requests are already being decoded or encoded; retry shortly", 1);
        }
        try {
            return admitted(audio);
        } finally {
            admission.release();
        }
    }

    private Encoded admitted(byte[] audio) {
        long t0 = System.nanoTime();
        Features f;
        long t1;
        try (AudioStream in = AudioDecoder.open(audio, limits)) {
            t1 = System.nanoTime();
            f = FeatureExtractor.extract(in, limits); // W x [128, 3000]
        }
        long t2 = System.nanoTime();
        FloatTensor h = encoder.encode(f); // [N, d]
        long t3 = System.nanoTime();
        if (h.dim(0) == 0) {
            throw new io.qwenaudio.audio.InvalidAudioException(String.format(Locale.ROOT,
                    "audio too short: %.4f s gives no audio token; accepted: at least 3 mel frames (about 0.02 s)",
                    f.durationSeconds()));
        }
        return new Encoded(h, f, ms(t1 - t0), ms(t2 - t1), ms(t3 - t2));
    }

    /** Encode-only embedding: hidden states and/or a pooled vector. */
    public Wire.EmbedResponse embed(Wire.EmbedRequest r, String requestId) {
        if (r == null) throw StageException.badRequest("the body is empty; send {\"audio\": \"<base64 WAV/FLAC/MP3>\"}");
        String pooling = r.pooling() == null ? "mean" : r.pooling().toLowerCase(Locale.ROOT);
        if (!pooling.equals("none") && !pooling.equals("mean") && !pooling.equals("max")) {
            throw StageException.badRequest("pooling '" + r.pooling() + "' is not supported; accepted: none, mean, max");
        }
        String format = r.format() == null ? "json" : r.format().toLowerCase(Locale.ROOT);
        if (!format.equals("json") && !format.equals("npy")) {
            throw StageException.badRequest("format '" + r.format() + "' is not supported; accepted: json, npy");
        }
        boolean normalize = Boolean.TRUE.equals(r.normalize());
        boolean hiddenOut = pooling.equals("none") || Boolean.TRUE.equals(r.includeHidden());
        Encoded e = encodeAudio(audioBytes(r.audio(), r.audioRef()));
        int n = (int) e.hidden().dim(0), d = (int) e.hidden().dim(1);
        float[] h = e.hidden().data(); // [N, d]
        float[] pooled = null;
        if (!pooling.equals("none")) {
            pooled = pool(h, n, d, pooling.equals("max")); // [d]
            if (normalize) l2Normalize(pooled, 0, d);
        } else if (normalize) {
            h = h.clone();
            for (int i = 0; i < n; i++) l2Normalize(h, i * d, d);
        }
        float[] emb = null;
        String embNpy = null;
        float[][] hid = null;
        String hidNpy = null;
        if (format.equals("json")) {
            emb = pooled;
            if (hiddenOut) {
                hid = new float[n][];
                for (int i = 0; i < n; i++) hid[i] = java.util.Arrays.copyOfRange(h, i * d, (i + 1) * d);
            }
        } else {
            Base64.Encoder b64 = Base64.getEncoder();
            if (pooled != null) embNpy = b64.encodeToString(Npy.toBytes(pooled, new long[] {d}));
            if (hiddenOut) hidNpy = b64.encodeToString(Npy.toBytes(h, new long[] {n, d}));
        }
        return new Wire.EmbedResponse(requestId, pooling, normalize, n, d, e.features().windows(),
                e.features().durationSeconds(), emb, embNpy, hid, hidNpy, e.timings());
    }

    /** Mean or max over the rows of {@code [n, d]}: {@code [d]}. */
    static float[] pool(float[] h, int n, int d, boolean max) {
        float[] out = new float[d];
        if (max) {
            java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) out[j] = Math.max(out[j], h[i * d + j]);
        } else {
            double[] sum = new double[d];
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) sum[j] += h[i * d + j];
            for (int j = 0; j < d; j++) out[j] = (float) (sum[j] / n);
        }
        return out;
    }

    static void l2Normalize(float[] x, int off, int len) {
        double ss = 0;
        for (int i = off; i < off + len; i++) ss += (double) x[i] * x[i];
        if (ss == 0) return;
        float inv = (float) (1 / Math.sqrt(ss));
        for (int i = off; i < off + len; i++) x[i] *= inv;
    }

    /** The audio file bytes: inline base64 or a blob reference, exactly one. */
    private byte[] audioBytes(String b64, String ref) {
        if ((b64 == null) == (ref == null)) {
            throw StageException.badRequest("give exactly one of 'audio' (base64 of a WAV, FLAC or MP3 file) or "
                    + "'audio_ref' (a blob reference)");
        }
        if (b64 != null) return base64("audio", b64);
        BlobStore store = codec.store();
        if (store == null) throw new PayloadException("'audio_ref' is not accepted here: no blob store is configured");
        return store.get(ref);
    }

    /**
     * Strict base64 (standard alphabet; line breaks and spaces are ignored, any other character is an error).
     *
     * @throws PayloadException naming {@code field}
     */
    public static byte[] base64(String field, String value) {
        String v = value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf(' ') >= 0
                ? value.replaceAll("\\s+", "") : value;
        try {
            return Base64.getDecoder().decode(v);
        } catch (IllegalArgumentException e) {
            throw new PayloadException("'" + field + "' is not valid base64: " + e.getMessage());
        }
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }
}
