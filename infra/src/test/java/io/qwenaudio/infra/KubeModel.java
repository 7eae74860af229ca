package io.qwenaudio.infra;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns manifest trees into fabric8 Kubernetes / Knative model objects and finds what the model did not
 * recognise. The model is not a schema validator: a misspelled field, or a value of the wrong type, lands in an
 * object's {@code additionalProperties}, which {@link #unknownFields} reports with its path.
 */
final class KubeModel {

    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private KubeModel() {
    }

    /**
     * Parses one manifest into its typed model class. Fails, naming the file, when the document has no
     * apiVersion/kind/name or when its kind is not one the Kubernetes or Knative model knows.
     */
    static HasMetadata typed(Manifest m) {
        if (m.apiVersion().isEmpty() || m.kind().isEmpty()) {
            throw new AssertionError(m.origin() + ": expected apiVersion and kind, found apiVersion='"
                    + m.apiVersion() + "' kind='" + m.kind() + "'");
        }
        if (m.name().isEmpty()) {
            throw new AssertionError(m.origin() + ": " + m.kind() + " has no metadata.name");
        }
        Object parsed;
        try {
            parsed = SERIALIZATION.unmarshal(m.tree().toString());
        } catch (RuntimeException e) {
            throw new AssertionError(m.origin() + ": " + m.id() + " does not parse as " + m.apiVersion() + " "
                    + m.kind() + ": " + e.getMessage(), e);
        }
        if (parsed instanceof GenericKubernetesResource || !(parsed instanceof HasMetadata)) {
            throw new AssertionError(m.origin() + ": " + m.apiVersion() + " " + m.kind()
                    + " is not a kind the fabric8 Kubernetes/Knative model knows (check apiVersion and kind)");
        }
        return (HasMetadata) parsed;
    }

    /** Parses a manifest as a given model class (for checks that need Service, Trigger, Broker...). */
    static <T extends HasMetadata> T typed(Manifest m, Class<T> type) {
        HasMetadata h = typed(m);
        if (!type.isInstance(h)) {
            throw new AssertionError(m.origin() + ": expected " + type.getName() + ", found " + h.getClass().getName());
        }
        return type.cast(h);
    }

    /**
     * Paths of every field the model kept in {@code additionalProperties} (unknown names, wrong value types),
     * e.g. {@code spec.template.spec.containers[0].readinesProbe}. Keys in {@code allowed} are accepted at the
     * top level (kustomize's {@code $patch} directive).
     */
    static List<String> unknownFields(Object model, Set<String> allowedTopLevel) {
        List<String> out = new ArrayList<>();
        walk(model, "", out, allowedTopLevel);
        return out;
    }

    private static void walk(Object node, String path, List<String> out, Set<String> allowedHere) {
        if (node == null) {
            return;
        }
        if (node instanceof Collection<?> list) {
            int i = 0;
            for (Object e : list) {
                walk(e, path + "[" + i++ + "]", out, Set.of());
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            for (var e : map.entrySet()) {
                walk(e.getValue(), path + "[" + e.getKey() + "]", out, Set.of());
            }
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (Modifier.isStatic(getter.getModifiers()) || getter.getParameterCount() != 0
                    || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue; // computed getters (e.g. Quantity.getNumericalAmount) are not fields
            }
            String field = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
            String child = path.isEmpty() ? field : path + "." + field;
            if (getter.getName().equals("getAdditionalProperties") && value instanceof Map<?, ?> extra) {
                for (Object key : extra.keySet()) {
                    if (!allowedHere.contains(String.valueOf(key))) {
                        out.add((path.isEmpty() ? "" : path + ".") + key);
                    }
                }
            } else if (value != null && (value instanceof Collection<?> || value instanceof Map<?, ?>
                    || value.getClass().getName().startsWith("io.fabric8."))) {
                walk(value, child, out, Set.of());
            }
        }
    }
}
