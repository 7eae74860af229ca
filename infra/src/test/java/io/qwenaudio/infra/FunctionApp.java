package io.qwenaudio.infra;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a deployable Quarkus app declares in {@code src/main/resources/application.properties}: its configuration
 * keys (each app lists every key it reads there, with its default), its Funqy CloudEvent mappings, its HTTP
 * port and health paths. The manifests are checked against this, not against a copy of it.
 */
final class FunctionApp {

    static final String MAPPING_PREFIX = "quarkus.funqy.knative-events.mapping.";

    /** A Funqy function's CloudEvent mapping. Fields are empty when the properties leave them out. */
    record Mapping(String function, String trigger, String responseType, String responseSource) {
    }

    final String name;
    final Path file;
    private final Map<String, String> properties;

    private final Set<String> documentedKeys;

    private FunctionApp(String name, Path file, Map<String, String> properties, Set<String> documentedKeys) {
        this.name = name;
        this.file = file;
        this.properties = properties;
        this.documentedKeys = documentedKeys;
    }

    /**
     * A key documented without a default, as a commented-out assignment ({@code #qwen-audio.artifacts-dir=/models/...}):
     * the key exists, it just has no default value.
     */
    static final Pattern COMMENTED_KEY = Pattern.compile("^\\s*#\\s*((?:qwen-audio|quarkus)\\.[A-Za-z0-9_.\\-\"]+)\\s*=.*$");

    /** Path of an app's configuration: {@code functions/<app>/src/main/resources/application.properties}. */
    static Path propertiesFile(String app) {
        return InfraPaths.functionsDir().resolve(app).resolve("src/main/resources/application.properties");
    }

    /**
     * The configuration an app sees when it also reads other apps' application.properties (the one-process app
     * depends on the stage apps): every key of all of them, values of {@code primary} winning (it has the higher
     * config ordinal). Port and health paths come from the merged values.
     */
    static FunctionApp merged(FunctionApp primary, List<FunctionApp> alsoReads) {
        Map<String, String> props = new LinkedHashMap<>();
        Set<String> documented = new TreeSet<>();
        for (FunctionApp other : alsoReads) {
            props.putAll(other.properties);
            documented.addAll(other.documentedKeys);
        }
        props.putAll(primary.properties);
        documented.addAll(primary.documentedKeys);
        return new FunctionApp(primary.name, primary.file, props, documented);
    }

    /** Loads an app's configuration; fails (never skips) when the file is missing. */
    static FunctionApp load(String app) {
        return load(app, propertiesFile(app));
    }

    /** Loads an app's configuration from a given file. */
    static FunctionApp load(String app, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new AssertionError("expected " + InfraPaths.display(file) + " (the " + app
                    + " app's configuration, listing its qwen-audio.* keys and Funqy mappings), found no such file;"
                    + " the manifests in knative/ deploy " + app + " and are checked against it");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + InfraPaths.display(file) + ": " + e.getMessage(), e);
        }
        Map<String, String> props = new LinkedHashMap<>();
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            props.put(key, p.getProperty(key).trim());
        }
        Set<String> documented = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                Matcher m = COMMENTED_KEY.matcher(line);
                if (m.matches()) {
                    documented.add(m.group(1));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read " + InfraPaths.display(file) + ": " + e.getMessage(), e);
        }
        return new FunctionApp(app, file, props, documented);
    }

    String display() {
        return InfraPaths.display(file);
    }

    /** A key's value in the default profile (no {@code %profile.} prefix). */
    Optional<String> value(String key) {
        return Optional.ofNullable(properties.get(key));
    }

    /** Every configuration key (set, or documented in a comment), with {@code %profile.} prefixes removed. */
    Set<String> keys() {
        Set<String> keys = new TreeSet<>(documentedKeys);
        for (String key : properties.keySet()) {
            keys.add(key.startsWith("%") && key.indexOf('.') > 0 ? key.substring(key.indexOf('.') + 1) : key);
        }
        return keys;
    }

    /**
     * The environment variable form of a key as SmallRye Config matches it: every character other than a
     * letter or digit becomes {@code _}, the rest is upper-cased ({@code qwen-audio.artifacts-dir ->
     * QWEN_AUDIO_ARTIFACTS_DIR}).
     */
    static String envName(String key) {
        StringBuilder sb = new StringBuilder(key.length());
        for (char c : key.toCharArray()) {
            sb.append(Character.isLetterOrDigit(c) ? Character.toUpperCase(c) : '_');
        }
        return sb.toString();
    }

    /**
     * The key an environment variable sets, if the app has one: an exact key, or a map key under one of the
     * {@code mapPrefixes} (e.g. {@code QWEN_AUDIO_ADAPT_ENVIRONMENTS_LDV} under {@code qwen-audio.adapt.environments.})
     * when the app lists at least one key under that prefix.
     */
    Optional<String> keyForEnv(String env, Set<String> mapPrefixes) {
        for (String key : keys()) {
            if (envName(key).equals(env)) {
                return Optional.of(key);
            }
        }
        for (String prefix : mapPrefixes) {
            boolean appHasMap = keys().stream().anyMatch(k -> k.startsWith(prefix));
            String envPrefix = envName(prefix);
            if (appHasMap && env.startsWith(envPrefix) && env.length() > envPrefix.length()) {
                return Optional.of(prefix + env.substring(envPrefix.length()).toLowerCase().replace('_', '-'));
            }
        }
        return Optional.empty();
    }

    /** Keys under a map prefix, e.g. {@code qwen-audio.adapt.environments.} -> {@code {ldv=adapters/ldv}}. */
    Map<String, String> mapUnder(String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        properties.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    /** Funqy mappings by function name, from {@code quarkus.funqy.knative-events.mapping.<fn>.*}. */
    Map<String, Mapping> mappings() {
        Map<String, Map<String, String>> byFn = new LinkedHashMap<>();
        properties.forEach((k, v) -> {
            if (k.startsWith(MAPPING_PREFIX)) {
                String rest = k.substring(MAPPING_PREFIX.length());
                int dot = rest.lastIndexOf('.');
                if (dot > 0) {
                    byFn.computeIfAbsent(rest.substring(0, dot), f -> new LinkedHashMap<>())
                            .put(rest.substring(dot + 1), v);
                }
            }
        });
        Map<String, Mapping> out = new LinkedHashMap<>();
        byFn.forEach((fn, m) -> out.put(fn, new Mapping(fn, m.getOrDefault("trigger", ""),
                m.getOrDefault("response-type", ""), m.getOrDefault("response-source", ""))));
        return out;
    }

    /** {@code quarkus.http.port}, 8080 when not set. */
    int httpPort() {
        return Integer.parseInt(value("quarkus.http.port").orElse("8080"));
    }

    /** Liveness path from the SmallRye Health settings ({@code /q/health/live} by default). */
    String livenessPath() {
        return healthPath(value("quarkus.smallrye-health.liveness-path").orElse("live"));
    }

    /** Readiness path from the SmallRye Health settings ({@code /q/health/ready} by default). */
    String readinessPath() {
        return healthPath(value("quarkus.smallrye-health.readiness-path").orElse("ready"));
    }

    private String healthPath(String leaf) {
        String root = value("quarkus.http.root-path").orElse("/");
        String nonApp = resolve(root, value("quarkus.http.non-application-root-path").orElse("q"));
        String health = resolve(nonApp, value("quarkus.smallrye-health.root-path").orElse("health"));
        return resolve(health, leaf);
    }

    private static String resolve(String base, String path) {
        if (path.startsWith("/")) {
            return path;
        }
        return (base.endsWith("/") ? base : base + "/") + path;
    }
}
