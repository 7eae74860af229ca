package io.qwenaudio.events;

import io.qwenaudio.blobs.BlobStore;
import io.qwenaudio.tensor.FloatTensor;
import io.qwenaudio.tensor.Npy;

import java.util.Arrays;
import java.util.Base64;

/**
 * Encodes tensors for events: {@code .npy} bytes (float32, or float16 to halve the size), inline as base64 up to
 * {@code inlineLimitBytes}, otherwise put in the {@link BlobStore} and sent by reference. Decoding checks the
 * declared dtype and shape against the {@code .npy} header and the shape the consumer expects.
 */
public final class TensorCodec {

    private final BlobStore store;
    private final long inlineLimitBytes;
    private final boolean fp16;

    /**
     * @param store            where payloads over the limit go (null: no claim check, oversized payloads fail)
     * @param inlineLimitBytes largest {@code .npy} carried inline
     * @param fp16             encode as float16 (values are rounded to half precision; ~3 significant digits)
     */
    public TensorCodec(BlobStore store, long inlineLimitBytes, boolean fp16) {
        this.store = store;
        this.inlineLimitBytes = inlineLimitBytes;
        this.fp16 = fp16;
    }

    public TensorPayload encode(FloatTensor t) {
        byte[] npy = fp16 ? Npy.toBytesFp16(t.data(), t.shape()) : Npy.toBytes(t.data(), t.shape());
        String dtype = fp16 ? "float16" : "float32";
        if (npy.length <= inlineLimitBytes) {
            return new TensorPayload(dtype, t.shape().clone(), Base64.getEncoder().encodeToString(npy), null);
        }
        if (store == null) {
            throw new PayloadException("tensor of " + npy.length + " bytes is over the inline limit of "
                    + inlineLimitBytes + " bytes and no blob store is configured", true);
        }
        return new TensorPayload(dtype, t.shape().clone(), null, store.put(npy));
    }

    /**
     * Decodes and validates a payload.
     *
     * @param what          name used in errors, e.g. "audio_hidden"
     * @param expectedShape the shape required, with -1 for any size (e.g. {@code [-1, 1280]})
     */
    public FloatTensor decode(TensorPayload p, String what, long... expectedShape) {
        if (p == null) throw new PayloadException(what + ": tensor is missing");
        if ((p.npy() == null) == (p.ref() == null)) {
            throw new PayloadException(what + ": give exactly one of 'npy' (inline base64 .npy) or 'ref' (blob reference)");
        }
        if (p.dtype() != null && !p.dtype().equals("float32") && !p.dtype().equals("float16")) {
            throw new PayloadException(what + ": dtype '" + p.dtype() + "' is not accepted; accepted: float32, float16");
        }
        byte[] bytes;
        if (p.npy() != null) {
            try {
                bytes = Base64.getDecoder().decode(p.npy());
            } catch (IllegalArgumentException e) {
                throw new PayloadException(what + ": 'npy' is not valid base64: " + e.getMessage());
            }
        } else {
            if (store == null) throw new PayloadException(what + ": tensor references are not accepted here (no blob store)");
            bytes = store.get(p.ref());
        }
        Npy.Array a;
        try {
            a = Npy.read(bytes);
        } catch (Npy.NpyFormatException e) {
            throw new PayloadException(what + ": " + e.getMessage());
        }
        if (a.dtype() != Npy.DType.FLOAT32 && a.dtype() != Npy.DType.FLOAT16) {
            throw new PayloadException(what + ": .npy dtype " + a.dtype().descr + " is not accepted; accepted: <f4, <f2");
        }
        if (p.dtype() != null && !p.dtype().equals(a.dtype() == Npy.DType.FLOAT32 ? "float32" : "float16")) {
            throw new PayloadException(what + ": declared dtype " + p.dtype() + " but the .npy holds " + a.dtype().descr);
        }
        if (p.shape() != null && !Arrays.equals(p.shape(), a.shape())) {
            throw new PayloadException(what + ": declared shape " + Arrays.toString(p.shape()) + " but the .npy holds "
                    + Arrays.toString(a.shape()));
        }
        checkShape(what, a.shape(), expectedShape);
        return FloatTensor.of(a.toFloats(), a.shape());
    }

    /** Throws a {@link PayloadException} naming both shapes unless {@code shape} matches ({@code -1} = any). */
    public static void checkShape(String what, long[] shape, long... expected) {
        boolean ok = shape.length == expected.length;
        for (int i = 0; ok && i < shape.length; i++) ok = expected[i] < 0 || expected[i] == shape[i];
        if (!ok) {
            StringBuilder want = new StringBuilder("[");
            for (int i = 0; i < expected.length; i++) {
                want.append(i > 0 ? ", " : "").append(expected[i] < 0 ? "*" : String.valueOf(expected[i]));
            }
            throw new PayloadException(what + ": shape " + Arrays.toString(shape) + " does not match the expected "
                    + want.append("]"));
        }
    }

    public BlobStore store() {
        return store;
    }
}
