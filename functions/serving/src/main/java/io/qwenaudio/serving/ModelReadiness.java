package io.qwenaudio.serving;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Readiness ({@code /q/health/ready}): DOWN until every stage of this process has loaded its model and run its
 * warm-up, so a platform sends traffic only to a process that can answer at once.
 */
@ApplicationScoped
public class ModelReadiness {

    private final Map<String, String> components = new ConcurrentHashMap<>();
    private final Map<String, Boolean> ready = new ConcurrentHashMap<>();

    /** Declares a component that must become ready (called before loading starts). */
    public void loading(String component) {
        ready.put(component, false);
        components.put(component, "loading");
    }

    public void ready(String component, String detail) {
        ready.put(component, true);
        components.put(component, detail);
    }

    public void failed(String component, String reason) {
        ready.put(component, false);
        components.put(component, "failed: " + reason);
    }

    /** The readiness check over every declared component. */
    @Readiness
    @ApplicationScoped
    public static class Check implements HealthCheck {
        @Inject
        ModelReadiness components;

        @Override
        public HealthCheckResponse call() {
            return components.response();
        }
    }

    HealthCheckResponse response() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("qwen-audio models");
        boolean up = !ready.isEmpty() && ready.values().stream().allMatch(Boolean::booleanValue);
        components.forEach(b::withData);
        return b.status(up).build();
    }
}
