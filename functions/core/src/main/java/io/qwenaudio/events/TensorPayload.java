package io.qwenaudio.events;

/**
 * A tensor inside an event body, as JSON: either inline ({@code npy}: base64 of a {@code .npy} file) or by
 * claim-check reference ({@code ref}: a {@link BlobStore} reference to the same {@code .npy} bytes).
 *
 * <pre>{"dtype": "float16", "shape": [750, 1280], "npy": "k05VTVBZAQB2AHsn..."}
 * {"dtype": "float32", "shape": [2250, 1280], "ref": "file:1b4e28ba-2fa1-11d2-883f-0016d3cca427"}</pre>
 *
 * @param dtype {@code float32} or {@code float16} (the .npy element type; consumers always get float32)
 * @param shape dimensions, e.g. {@code [N, 1280]}
 * @param npy   base64 {@code .npy} bytes when inline, else null
 * @param ref   blob reference when not inline, else null
 */
public record TensorPayload(String dtype, long[] shape, String npy, String ref) {

    public boolean inline() {
        return npy != null;
    }
}
