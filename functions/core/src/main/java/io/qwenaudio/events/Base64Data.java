package io.qwenaudio.events;

import java.util.Base64;

/** Base64 fields of request bodies ({@code audio}, {@code npy}, OpenAI's {@code input_audio.data}). */
public final class Base64Data {
    private Base64Data() {
    }

    /**
     * Strict base64 (standard alphabet; line breaks and spaces are ignored, any other character is an error).
     *
     * @throws PayloadException naming {@code field}
     */
    public static byte[] decode(String field, String value) {
        String v = value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf(' ') >= 0
                ? value.replaceAll("\\s+", "") : value;
        try {
            return Base64.getDecoder().decode(v);
        } catch (IllegalArgumentException e) {
            throw new PayloadException("'" + field + "' is not valid base64: " + e.getMessage());
        }
    }
}
