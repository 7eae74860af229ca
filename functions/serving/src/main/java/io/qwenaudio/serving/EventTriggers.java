package io.qwenaudio.serving;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

import java.util.Map;
import java.util.TreeMap;

/**
 * The CloudEvent types this process consumes and the function each goes to, read from the Funqy mappings
 * ({@code quarkus.funqy.knative-events.mapping.<function>.trigger}): the same routing the Knative Triggers and the
 * in-process bus use.
 */
public final class EventTriggers {
    private static final String PREFIX = "quarkus.funqy.knative-events.mapping.";

    private EventTriggers() {
    }

    /** ce-type -> function name. */
    public static Map<String, String> triggers() {
        Config config = ConfigProvider.getConfig();
        Map<String, String> t = new TreeMap<>();
        for (String name : config.getPropertyNames()) {
            if (name.startsWith(PREFIX) && name.endsWith(".trigger")) {
                String fn = name.substring(PREFIX.length(), name.length() - ".trigger".length());
                config.getOptionalValue(name, String.class).ifPresent(type -> t.put(type, fn));
            }
        }
        return t;
    }

    /** The stage a function belongs to: {@code encode-event} -> {@code encode}. */
    public static String stage(String function) {
        return function.endsWith("-event") ? function.substring(0, function.length() - "-event".length()) : function;
    }
}
