package io.qwenaudio.generate;

/**
 * The result of one {@link Generator#generate} call.
 *
 * @param tokenIds              generated ids in order; a final stop token is included
 * @param text                  the generated text: no stop token text, cut before a stop string
 * @param finishReason          why generation ended
 * @param promptTokens          positions of the prompt (audio positions included)
 * @param prefillMillis         time to first token: embedding + prefill + first sampling
 * @param decodeTokensPerSecond tokens after the first divided by the time spent producing them (0 for one token)
 * @param totalMillis           wall time of the whole call
 */
public record Generation(int[] tokenIds, String text, FinishReason finishReason, int promptTokens,
                         double prefillMillis, double decodeTokensPerSecond, double totalMillis) {

    /** Why a generation ended; {@link #value()} is the wire name ({@code "stop"}, {@code "length"}, ...). */
    public enum FinishReason {
        /** A stop token id or a stop string. */
        STOP("stop"),
        /** max_new_tokens reached. */
        LENGTH("length"),
        /** The listener returned false. */
        CANCELLED("cancelled");

        private final String value;

        FinishReason(String value) {
            this.value = value;
        }

        public String value() {
            return value;
        }
    }

    /** Number of generated tokens. */
    public int generatedTokens() {
        return tokenIds.length;
    }
}
