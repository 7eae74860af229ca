package io.qwenaudio.infra;

import io.fabric8.knative.eventing.v1.Trigger;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The Triggers and the apps' Funqy mappings form closed chains: every type a Trigger filters on is produced by a
 * function (or sent by clients, or is the failure type), every non-terminal type a function produces has a
 * Trigger, each Trigger reaches an app with a function for that type, and the flows pass the stages in order.
 */
class EventRoutingTest {

    static final List<String> APPS = Contract.APPS;

    @ParameterizedTest
    @FieldSource("APPS")
    void appMapsItsFunctionsToQwenAudioTypes(String appName) {
        FunctionApp app = FunctionApp.load(appName);
        Problems problems = new Problems(app.display());
        Map<String, FunctionApp.Mapping> mappings = app.mappings();
        problems.check(!mappings.isEmpty(), app.display() + ": expected " + FunctionApp.MAPPING_PREFIX
                + "<function>.trigger / .response-type / .response-source, found none");
        Map<String, String> byTrigger = new HashMap<>();
        for (FunctionApp.Mapping m : mappings.values()) {
            String key = FunctionApp.MAPPING_PREFIX + m.function();
            problems.check(m.trigger().startsWith(Contract.PREFIX), app.display() + ": " + key
                    + ".trigger: expected a type starting with " + Contract.PREFIX + ", found '" + m.trigger() + "'");
            problems.check(m.responseType().startsWith(Contract.PREFIX), app.display() + ": " + key
                    + ".response-type: expected a type starting with " + Contract.PREFIX + ", found '"
                    + m.responseType() + "'");
            String other = byTrigger.put(m.trigger(), m.function());
            problems.check(other == null, app.display() + ": functions " + other + " and " + m.function()
                    + " both have trigger " + m.trigger());
        }
        problems.assertNone();
    }

    @Test
    void everyTriggerReachesAFunctionForItsType() {
        Map<String, FunctionApp> apps = Apps.all();
        Problems problems = new Problems("Trigger subscribers");
        for (Deployment d : Deployment.all()) {
            for (var t : d.triggers.values()) {
                Trigger trigger = t.resource();
                String where = t.origin() + ": Trigger " + trigger.getMetadata().getName();
                problems.check(d.brokers.containsKey(trigger.getSpec().getBroker()), where + ": spec.broker '"
                        + trigger.getSpec().getBroker() + "' is not a Broker in " + d + " " + d.brokers.keySet());
                Map<String, String> attrs = filter(trigger);
                String type = attrs.getOrDefault("type", "");
                problems.check(type.startsWith(Contract.PREFIX), where + ": spec.filter.attributes.type: expected an "
                        + Contract.PREFIX + "* type, found '" + type + "'");
                for (String attr : attrs.keySet()) {
                    problems.check(Set.of("type", Contract.ENVIRONMENT_EXTENSION).contains(attr), where
                            + ": spec.filter.attributes." + attr + ": the manifests filter on type and "
                            + Contract.ENVIRONMENT_EXTENSION + " only");
                }
                var sub = trigger.getSpec().getSubscriber();
                var ref = sub == null ? null : sub.getRef();
                if (ref == null || sub.getUri() != null) {
                    problems.add(where + ": spec.subscriber: expected a ref to a Knative Service (and no uri)");
                    continue;
                }
                problems.check("serving.knative.dev/v1".equals(ref.getApiVersion()) && "Service".equals(ref.getKind()),
                        where + ": spec.subscriber.ref: expected apiVersion serving.knative.dev/v1 kind Service, found "
                                + ref.getApiVersion() + " " + ref.getKind());
                String target = ref.getName();
                if (!d.services.containsKey(target)) {
                    problems.add(where + ": spec.subscriber.ref.name '" + target + "' is not a Knative Service in "
                            + d + " " + d.services.keySet());
                    continue;
                }
                FunctionApp app = apps.get(target);
                if (app != null) {
                    boolean consumed = app.mappings().values().stream().anyMatch(m -> m.trigger().equals(type));
                    problems.check(consumed, where + ": sends " + type + " to " + target + ", but no function in "
                            + app.display() + " has " + FunctionApp.MAPPING_PREFIX + "<function>.trigger=" + type);
                } else {
                    problems.check(target.equals(Contract.RESULT_SINK), where + ": subscriber " + target
                            + " is neither an app " + Contract.APPS + " nor the result sink " + Contract.RESULT_SINK);
                    problems.check(Contract.TERMINAL_TYPES.contains(type), where + ": sends " + type + " to the result sink "
                            + target + ", but only terminal types " + Contract.TERMINAL_TYPES + " end there");
                }
                String env = attrs.get(Contract.ENVIRONMENT_EXTENSION);
                if (env != null) {
                    FunctionApp adapt = apps.get("adapt-function");
                    Set<String> known = new TreeSet<>(adapt.mapUnder("qwen-audio.adapt.environments.").keySet());
                    d.service("adapt-function").ifPresent(s -> Deployment.env(Deployment.container(s)).keySet().stream()
                            .map(e -> adapt.keyForEnv(e, Contract.MAP_PREFIXES).orElse(""))
                            .filter(k -> k.startsWith("qwen-audio.adapt.environments."))
                            .forEach(k -> known.add(k.substring("qwen-audio.adapt.environments.".length()))));
                    problems.check(target.equals("adapt-function"), where + ": filters on "
                            + Contract.ENVIRONMENT_EXTENSION + " but routes to " + target + ", not adapt-function");
                    problems.check(known.contains(env), where + ": spec.filter.attributes." + Contract.ENVIRONMENT_EXTENSION
                            + "='" + env + "' has no adapter: adapt-function knows " + known);
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void everyConsumedTypeIsProducedAndEveryProducedTypeIsConsumed() {
        Map<String, FunctionApp> apps = Apps.all();
        Set<String> produced = new TreeSet<>(Contract.INGRESS_TYPES);
        produced.add(Contract.FAILURE_TYPE);
        Map<String, String> producedBy = new LinkedHashMap<>();
        apps.values().forEach(a -> a.mappings().values().forEach(m -> {
            produced.add(m.responseType());
            producedBy.put(m.responseType(), a.display() + " (" + m.function() + ")");
        }));
        Problems problems = new Problems("event types");
        for (Deployment d : Deployment.all()) {
            Map<String, String> consumedBy = new LinkedHashMap<>();
            for (var t : d.triggers.values()) {
                String type = filter(t.resource()).getOrDefault("type", "");
                consumedBy.putIfAbsent(type, t.origin() + " Trigger " + t.resource().getMetadata().getName() + " -> "
                        + t.resource().getSpec().getSubscriber().getRef().getName());
                problems.check(produced.contains(type), t.origin() + ": Trigger " + t.resource().getMetadata().getName()
                        + " filters on " + type + ", which no function produces (response types: "
                        + producedBy.keySet() + "; client types: " + Contract.INGRESS_TYPES + ")");
            }
            for (String type : produced) {
                problems.check(consumedBy.containsKey(type), d + ": " + type + " (produced by "
                        + producedBy.getOrDefault(type, Contract.INGRESS_TYPES.contains(type) ? "clients" : "every stage on failure")
                        + ") has no Trigger" + (Contract.TERMINAL_TYPES.contains(type) ? " to the result sink "
                        + Contract.RESULT_SINK : ""));
            }
            for (FunctionApp app : apps.values()) {
                for (FunctionApp.Mapping m : app.mappings().values()) {
                    boolean routed = d.triggers.values().stream().anyMatch(t ->
                            m.trigger().equals(filter(t.resource()).get("type"))
                                    && app.name.equals(t.resource().getSpec().getSubscriber().getRef().getName()));
                    problems.check(routed, d + ": function " + m.function() + " of " + app.display() + " consumes "
                            + m.trigger() + ", but no Trigger sends that type to Service " + app.name);
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void flowsPassTheStagesInOrder() {
        Map<String, FunctionApp> apps = Apps.all();
        Problems problems = new Problems("flows");
        for (Deployment d : Deployment.all()) {
            for (Contract.Flow flow : Contract.FLOWS) {
                String type = flow.start();
                StringBuilder path = new StringBuilder(type);
                for (String expectedApp : flow.apps()) {
                    String current = type;
                    List<String> targets = d.triggers.values().stream()
                            .filter(t -> current.equals(filter(t.resource()).get("type")))
                            .filter(t -> !filter(t.resource()).containsKey(Contract.ENVIRONMENT_EXTENSION))
                            .map(t -> t.resource().getSpec().getSubscriber().getRef().getName())
                            .toList();
                    if (!targets.equals(List.of(expectedApp))) {
                        problems.add(d + ": flow " + path + ": expected " + current + " (without "
                                + Contract.ENVIRONMENT_EXTENSION + " filter) to go to " + expectedApp + " only, Triggers send it to "
                                + targets);
                        type = null;
                        break;
                    }
                    var mapping = apps.get(expectedApp).mappings().values().stream()
                            .filter(m -> m.trigger().equals(current)).findFirst();
                    if (mapping.isEmpty()) {
                        problems.add(d + ": flow " + path + ": " + apps.get(expectedApp).display()
                                + " has no function with trigger " + current);
                        type = null;
                        break;
                    }
                    type = mapping.get().responseType();
                    path.append(" -> ").append(expectedApp).append('/').append(mapping.get().function()).append(" -> ").append(type);
                }
                if (type != null) {
                    problems.check(type.equals(flow.end()), d + ": flow " + path + ": expected to end with " + flow.end());
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void noEventIsDeliveredTwiceToOneService() {
        Problems problems = new Problems("duplicate Triggers");
        for (Deployment d : Deployment.all()) {
            Map<String, String> seen = new HashMap<>();
            for (var t : d.triggers.values()) {
                String key = new TreeMap<>(filter(t.resource())) + " -> "
                        + t.resource().getSpec().getSubscriber().getRef().getName();
                String other = seen.put(key, t.resource().getMetadata().getName());
                problems.check(other == null, t.origin() + ": Triggers " + other + " and "
                        + t.resource().getMetadata().getName() + " both deliver " + key);
            }
        }
        problems.assertNone();
    }

    static Map<String, String> filter(Trigger t) {
        var f = t.getSpec().getFilter();
        return f == null || f.getAttributes() == null ? Map.of() : f.getAttributes();
    }
}
