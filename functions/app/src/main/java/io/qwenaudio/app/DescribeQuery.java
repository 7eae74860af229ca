package io.qwenaudio.app;

import io.qwenaudio.events.Wire;
import io.qwenaudio.stages.StageException;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The query parameters of {@code POST /v1/audio/describe} with an audio body, parsed here rather than by the framework
 * so a bad value is a 400 that names the parameter (not a 404), and an unknown parameter is refused instead of being
 * ignored.
 */
record DescribeQuery(Wire.GenerateParams generate, String environment, String requestId) {

    static final Set<String> NAMES = new TreeSet<>(List.of("prompt", "raw_prompt", "system", "environment", "request_id",
            "max_new_tokens", "greedy", "temperature", "top_k", "top_p", "repetition_penalty", "seed", "stop"));

    static DescribeQuery parse(Map<String, List<String>> q) {
        for (String k : q.keySet()) {
            if (!NAMES.contains(k)) {
                throw StageException.badField(k, "unknown query parameter '" + k + "'; accepted: " + String.join(", ", NAMES));
            }
        }
        Wire.GenerateParams p = Wire.GenerateParams.builder().prompt(text(q, "prompt")).system(text(q, "system"))
                .rawPrompt(text(q, "raw_prompt")).maxNewTokens(integer(q, "max_new_tokens")).greedy(bool(q, "greedy"))
                .temperature(number(q, "temperature")).topK(integer(q, "top_k")).topP(number(q, "top_p"))
                .repetitionPenalty(number(q, "repetition_penalty")).seed(longInt(q, "seed"))
                .stop(q.containsKey("stop") ? List.copyOf(q.get("stop")) : null).build();
        return new DescribeQuery(p, text(q, "environment"), text(q, "request_id"));
    }

    private static String text(Map<String, List<String>> q, String k) {
        List<String> v = q.get(k);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static Integer integer(Map<String, List<String>> q, String k) {
        String v = text(q, k);
        if (v == null) return null;
        try {
            return Integer.valueOf(v.trim());
        } catch (NumberFormatException e) {
            throw StageException.badField(k, k + " must be an integer, got '" + v + "'");
        }
    }

    private static Long longInt(Map<String, List<String>> q, String k) {
        String v = text(q, k);
        if (v == null) return null;
        try {
            return Long.valueOf(v.trim());
        } catch (NumberFormatException e) {
            throw StageException.badField(k, k + " must be an integer, got '" + v + "'");
        }
    }

    private static Double number(Map<String, List<String>> q, String k) {
        String v = text(q, k);
        if (v == null) return null;
        try {
            double d = Double.parseDouble(v.trim());
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw StageException.badField(k, k + " must be a finite number, got '" + v + "'");
        }
    }

    private static Boolean bool(Map<String, List<String>> q, String k) {
        String v = text(q, k);
        if (v == null) return null;
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1" -> Boolean.TRUE;
            case "false", "0" -> Boolean.FALSE;
            default -> throw StageException.badField(k, k + " must be true or false, got '" + v + "'");
        };
    }
}
