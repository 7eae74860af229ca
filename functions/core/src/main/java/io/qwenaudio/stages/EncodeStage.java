package io.qwenaudio.stages;

import io.qwenaudio.audio.AudioDecoder;
import io.qwenaudio.audio.AudioLimits;
import io.qwenaudio.audio.AudioStream;
import io.qwenaudio.audio.FeatureExtractor;
import io.qwenaudio.audio.Features;
import io.qwenaudio.audio.InvalidAudioException;
import io.qwenaudio.blobs.BlobStore;
import io.qwenaudio.events.Base64Data;
import io.qwenaudio.events.PayloadException;
import io.qwenaudio.events.TensorCodec;
import io.qwenaudio.events.Wire;
import io.qwenaudio.encoder.AudioEncoder;
import io.qwenaudio.runtime.MemoryBudget;
import io.qwenaudio.runtime.OverloadedException;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;

import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

/**
 * The encode stage: audio bytes -> 16 kHz mono -> log-mel windows -> audio encoder -> hidden states {@code [N, d]}
 * of the valid tokens, windows concatenated. Also the encode-only embedding service ({@link #embed}). Thread-safe:
 * concurrent calls share the encoder, whose micro-batcher groups their windows. Requests are admitted by
 * {@link Admission} (count and bytes in flight) before any decoding; pooling is {@link Pooling}.
 */
public final class EncodeStage implements AutoCloseable {

    /** Audio positions per second of audio (one per 40 ms; 750 per 30 s window). */
    public static final double TOKENS_PER_SECOND = 25.0;
    /** Positions a short prompt takes beside the audio (template, system turn, question). */
    public static final int PROMPT_ALLOWANCE = 64;

    /** One clip through the encoder, with its step timings. */
    public record Encoded(FloatTensor hidden, Features features, double decodeMs, double featuresMs, double encodeMs) {
        public Wire.Timings timings() {
            return new Wire.Timings(decodeMs, featuresMs, encodeMs, null, null, null, null);
        }
    }

    private final AudioEncoder encoder;
    private final TensorCodec codec;
    private final AudioLimits limits;
    private final Admission admission;
    /** The language model's context in positions (0: unknown), bounding clips that go on to generation. */
    private final int context;

    /** @param encoder owned: closed with this stage */
    public EncodeStage(AudioEncoder encoder, TensorCodec codec, AudioLimits limits) {
        this(encoder, codec, limits, MemoryBudget.UNBOUNDED, 0);
    }

    /**
     * @param encoder owned: closed with this stage
     * @param memory  the process's budget of bytes in flight
     * @param context the language model's context in positions ({@code max_position_embeddings}); clips of
     *                {@link #encode} requests (which go on to generation) must fit in it; 0 = no such check
     */
    public EncodeStage(AudioEncoder encoder, TensorCodec codec, AudioLimits limits, MemoryBudget memory, int context) {
        this.encoder = encoder;
        this.codec = codec;
        this.limits = limits;
        this.admission = new Admission("encode", encoder.capacity(), memory);
        this.context = context;
    }

    public int dModel() {
        return encoder.dModel();
    }

    /** Windows waiting for the encoder now. */
    public int queued() {
        return encoder.queued();
    }

    /** The longest clip whose audio positions fit the context beside a short prompt (infinite without a context). */
    public double maxGenerationSeconds() {
        return context <= 0 ? Double.POSITIVE_INFINITY : Math.max(0, context - PROMPT_ALLOWANCE) / TOKENS_PER_SECOND;
    }

    @Override
    public void close() throws ai.onnxruntime.OrtException {
        encoder.close();
    }

    /**
     * {@code audio.received} -> {@code audio.encoded}. A request that carries {@code generate} options goes on to the
     * language model, so its clip must fit the context ({@link #maxGenerationSeconds()}): checked from the header,
     * before decoding.
     */
    public Wire.EncodedAudio encode(Wire.EncodeRequest r, String requestId) {
        if (r == null) throw StageException.emptyBody("{\"audio\": \"<base64 WAV/FLAC/MP3>\"}");
        Encoded e = encodeAudio(audioBytes(r.audio(), r.audioRef()), r.generate() != null);
        return new Wire.EncodedAudio(requestId, r.environment(), codec.encode(e.hidden()), e.features().windows(),
                e.features().durationSeconds(), null, e.timings(), r.generate());
    }

    /** Decodes, featurises and encodes one clip that goes on to generation: {@code [N, d]}. */
    public Encoded encodeAudio(byte[] audio) {
        return encodeAudio(audio, true);
    }

    /**
     * Decodes, featurises and encodes one clip: {@code [N, d]}. Admission comes first: past the encoder's capacity
     * or the memory budget a request is turned away at once ({@link OverloadedException}, 429) instead of holding
     * its samples and features in memory only to be refused by the encoder queue afterwards.
     *
     * @param forGeneration the clip goes on to the language model: it must fit the context
     */
    public Encoded encodeAudio(byte[] audio, boolean forGeneration) {
        try (Admission.Ticket ticket = admission.enter()) {
            long t0 = System.nanoTime();
            Features f;
            long t1;
            try (AudioStream in = AudioDecoder.open(audio, limits)) {
                double seconds = in.frames() > 0 ? (double) in.frames() / in.sampleRate() : limits.maxDurationSeconds();
                if (forGeneration && in.frames() > 0) checkFitsContext(seconds);
                ticket.reserve(bytesInFlight(audio.length, seconds), "a clip of " + String.format(Locale.ROOT, "%.1f s", seconds));
                t1 = System.nanoTime();
                f = FeatureExtractor.extract(in, limits); // W x [128, 3000]
            }
            if (forGeneration) checkFitsContext(f.durationSeconds());
            long t2 = System.nanoTime();
            FloatTensor h = encoder.encode(f); // [N, d]
            long t3 = System.nanoTime();
            if (h.dim(0) == 0) {
                throw new InvalidAudioException(String.format(Locale.ROOT,
                        "audio too short: %.4f s gives no audio token; accepted: at least 3 mel frames (about 0.02 s)",
                        f.durationSeconds()));
            }
            return new Encoded(h, f, ms(t1 - t0), ms(t2 - t1), ms(t3 - t2));
        }
    }

    /** Bytes a clip holds while it is encoded: the file, its log-mel windows and its hidden states. */
    long bytesInFlight(long fileBytes, double seconds) {
        long windows = Math.max(1, (long) Math.ceil(seconds / 30.0));
        long features = windows * 128L * 3000 * Float.BYTES;                 // W x [128, 3000]
        long hidden = windows * 750L * encoder.dModel() * Float.BYTES * 2;   // [N, d], and its encoded payload
        return fileBytes + features + hidden;
    }

    private void checkFitsContext(double seconds) {
        double max = maxGenerationSeconds();
        if (seconds > max) {
            throw new StageException(422, "context_length_exceeded", String.format(Locale.ROOT, "audio of %.1f s takes "
                    + "about %d positions, more than the language model's context of %d positions (max_position_embeddings "
                    + "in the artifacts' manifest.json) leaves for audio: at most %.1f s of audio can be described; "
                    + "send a shorter clip (qwen-audio.audio.max-duration-seconds=%.0f bounds /embed only)", seconds,
                    (long) Math.ceil(seconds * TOKENS_PER_SECOND), context, max, limits.maxDurationSeconds()), "audio");
        }
    }

    /** Encode-only embedding: hidden states and/or a pooled vector. */
    public Wire.EmbedResponse embed(Wire.EmbedRequest r, String requestId) {
        if (r == null) throw StageException.emptyBody("{\"audio\": \"<base64 WAV/FLAC/MP3>\"}");
        Pooling pooling = Pooling.parse(r.pooling());
        String format = r.format() == null ? "json" : r.format().toLowerCase(Locale.ROOT);
        if (!format.equals("json") && !format.equals("npy")) {
            throw StageException.badField("format", "format '" + r.format() + "' is not supported; accepted: json, npy");
        }
        boolean normalize = Boolean.TRUE.equals(r.normalize());
        boolean hiddenOut = pooling == Pooling.NONE || Boolean.TRUE.equals(r.includeHidden());
        Encoded e = encodeAudio(audioBytes(r.audio(), r.audioRef()), false);
        int n = (int) e.hidden().dim(0), d = (int) e.hidden().dim(1);
        float[] h = e.hidden().data(); // [N, d]
        float[] pooled = null;
        if (pooling != Pooling.NONE) {
            pooled = pooling.pool(h, n, d); // [d]
            if (normalize) Pooling.l2Normalize(pooled, 0, d);
        } else if (normalize) {
            h = h.clone();
            for (int i = 0; i < n; i++) Pooling.l2Normalize(h, i * d, d);
        }
        float[] emb = null;
        String embNpy = null;
        float[][] hid = null;
        String hidNpy = null;
        if (format.equals("json")) {
            emb = pooled;
            if (hiddenOut) {
                hid = new float[n][];
                for (int i = 0; i < n; i++) hid[i] = Arrays.copyOfRange(h, i * d, (i + 1) * d);
            }
        } else {
            Base64.Encoder b64 = Base64.getEncoder();
            if (pooled != null) embNpy = b64.encodeToString(Npy.toBytes(pooled, new long[] {d}));
            if (hiddenOut) hidNpy = b64.encodeToString(Npy.toBytes(h, new long[] {n, d}));
        }
        return new Wire.EmbedResponse(requestId, pooling.wireName(), normalize, n, d, e.features().windows(),
                e.features().durationSeconds(), emb, embNpy, hid, hidNpy, e.timings());
    }

    /** The audio file bytes: inline base64 or a blob reference, exactly one. */
    private byte[] audioBytes(String b64, String ref) {
        if ((b64 == null) == (ref == null)) {
            throw StageException.badField("audio", "give exactly one of 'audio' (base64 of a WAV, FLAC or MP3 file) or "
                    + "'audio_ref' (a blob reference)");
        }
        if (b64 != null) return Base64Data.decode("audio", b64);
        BlobStore store = codec.store();
        if (store == null) throw new PayloadException("'audio_ref' is not accepted here: no blob store is configured");
        return store.get(ref);
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }
}
