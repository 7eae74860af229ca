package io.qwenaudio.events;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The two CloudEvent extensions of a Knative RequestReply: the request event carries {@code correlation} (set by the
 * RequestReply), every stage copies it onto the event it answers with, and a terminal event ({@code text.generated},
 * {@code embedding.created}, {@code pipeline.failed}) also carries it as {@code reply}, which is how the RequestReply
 * recognises the answer to the request it holds.
 *
 * @param correlation the RequestReply's {@code spec.correlationAttribute}
 * @param reply       the RequestReply's {@code spec.replyAttribute}
 */
public record ReplyAttributes(String correlation, String reply) {

    /** Attributes that are not extensions, and the extensions this contract already uses. */
    private static final Set<String> TAKEN = Set.of("id", "source", "specversion", "type", "datacontenttype", "dataschema",
            "subject", "time", "data", EventTypes.CORRELATION, EventTypes.ENVIRONMENT);

    public ReplyAttributes {
        checkName("correlation attribute", correlation);
        checkName("reply attribute", reply);
        if (correlation.equals(reply)) {
            throw new IllegalArgumentException("the correlation and reply attributes must differ, both are '" + reply + "'");
        }
    }

    /** Refuses a {@code name} that cannot be this contract's {@code what}, saying why. */
    public static void checkName(String what, String name) {
        if (name == null || !name.matches("[a-z0-9]{1,20}")) {
            throw new IllegalArgumentException("the " + what + " '" + name + "' is not a CloudEvent extension name: "
                    + "1 to 20 lower-case letters and digits");
        }
        if (TAKEN.contains(name)) {
            throw new IllegalArgumentException("the " + what + " '" + name + "' is taken (a CloudEvent attribute or an "
                    + "extension of the stage contract: " + EventTypes.CORRELATION + ", " + EventTypes.ENVIRONMENT + ")");
        }
    }

    /**
     * The RequestReply extensions of an event answering {@code in}: the correlation copied, and for a terminal
     * {@code type} the reply attribute too. Empty when {@code in} carries no correlation (not sent through a RequestReply).
     */
    public Map<String, String> forAnswer(Map<String, String> in, String type) {
        Map<String, String> out = new TreeMap<>();
        String c = in == null ? null : in.get(correlation);
        if (c == null || c.isEmpty()) return out;
        out.put(correlation, c);
        if (EventTypes.TERMINAL.contains(type)) out.put(reply, c);
        return out;
    }
}
