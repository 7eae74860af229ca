package io.qwenaudio.infra;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Loads every deployable app's configuration at once; fails listing every missing file. */
final class Apps {

    private Apps() {
    }

    /** The gateway's configuration: functions/app and the stage apps' application.properties it reads too. */
    static FunctionApp gateway() {
        return FunctionApp.merged(FunctionApp.load(Contract.GATEWAY_APP), List.copyOf(all().values()));
    }

    static Map<String, FunctionApp> all() {
        Map<String, FunctionApp> apps = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String app : Contract.APPS) {
            try {
                apps.put(app, FunctionApp.load(app));
            } catch (AssertionError e) {
                missing.add(e.getMessage());
            }
        }
        if (!missing.isEmpty()) {
            throw new AssertionError(String.join("\n", missing));
        }
        return apps;
    }
}
