package io.qwenaudio.chain;

import io.fabric8.knative.duck.v1.DeliverySpec;
import io.fabric8.knative.duck.v1.Destination;
import io.fabric8.knative.eventing.v1.Broker;
import io.fabric8.knative.eventing.v1.Trigger;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.qwenaudio.knative.RequestReplies;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The event routing of Knative manifests: their one Broker and the Triggers attached to it (fabric8 Knative
 * model objects). Answers which Triggers an event matches (exact match on every filter attribute, an empty value
 * matching any value of a present attribute, as Knative's attribute filter does) and which delivery (retries,
 * backoff, timeout, dead-letter sink) applies to each Trigger.
 */
final class KnativeRoutes {


    /** The Broker class whose data plane counts retries from 1 in the backoff formula. */
    static final String KAFKA_CLASS = "Kafka";

    /**
     * How a Trigger's subscriber is delivered to.
     *
     * @param kafkaBackoff the Kafka Broker's dispatcher computes the delay before retry {@code n} (1-based) as
     *                     {@code delay * 2^n}; the channel-based Broker's as {@code delay * 2^(n-1)}
     */
    record Delivery(int retry, String backoffPolicy, Duration backoffDelay, Duration timeout, String deadLetterService,
                    String deadLetterPath, boolean kafkaBackoff) {

        /** Delay before retry number {@code n} (1-based): exponential or {@code delay * n} (linear). */
        Duration backoff(int n) {
            if ("linear".equals(backoffPolicy)) return backoffDelay.multipliedBy(n);
            return backoffDelay.multipliedBy(1L << Math.min(kafkaBackoff ? n : n - 1, 20));
        }

        /** The time the retries span: the sum of every backoff. */
        Duration window() {
            Duration d = Duration.ZERO;
            for (int n = 1; n <= retry; n++) d = d.plus(backoff(n));
            return d;
        }
    }

    /** One Trigger: its name, filter, subscriber Service and delivery. */
    record Route(String trigger, Map<String, String> filter, String service, Delivery delivery) {

        boolean matches(Event e) {
            for (Map.Entry<String, String> f : filter.entrySet()) {
                String value = e.attribute(f.getKey());
                if (f.getValue().isEmpty() ? value == null : !f.getValue().equals(value)) return false;
            }
            return true;
        }
    }

    /**
     * A Knative RequestReply on the Broker: its address path ({@code /<namespace>/<name>} on the request-reply data
     * plane), the extension it stamps on a request and the one that marks a reply, and how long it holds a request.
     */
    record RequestReply(String namespace, String name, String correlationAttribute, String replyAttribute, Duration timeout) {
        String path() {
            return "/" + namespace + "/" + name;
        }
    }

    final String broker;
    final String namespace;
    final List<Route> routes;
    /** The RequestReply on the Broker, or null when the manifests have none. */
    final RequestReply requestReply;

    private KnativeRoutes(String broker, String namespace, List<Route> routes, RequestReply requestReply) {
        this.broker = broker;
        this.namespace = namespace;
        this.routes = List.copyOf(routes);
        this.requestReply = requestReply;
    }

    /** The routing of parsed manifests; expects exactly one Broker and at least one Trigger on it. */
    static KnativeRoutes of(List<HasMetadata> resources) {
        List<Broker> brokers = new ArrayList<>();
        List<Trigger> triggers = new ArrayList<>();
        for (HasMetadata r : resources) {
            if (r instanceof Broker b) brokers.add(b);
            if (r instanceof Trigger t) triggers.add(t);
        }
        if (brokers.size() != 1) {
            throw new IllegalStateException("expected exactly one Broker in the manifests, found " + brokers.size());
        }
        Broker b = brokers.get(0);
        String name = b.getMetadata().getName();
        Map<String, String> annotations = b.getMetadata().getAnnotations();
        boolean kafka = annotations != null && KAFKA_CLASS.equals(annotations.get("eventing.knative.dev/broker.class"));
        List<Route> routes = new ArrayList<>();
        for (Trigger t : triggers) {
            if (!name.equals(t.getSpec().getBroker())) continue;
            String where = "Trigger " + t.getMetadata().getName();
            if (t.getSpec().getFilters() != null && !t.getSpec().getFilters().isEmpty()) {
                throw new IllegalStateException(where + ": spec.filters (the SQL/prefix filters) is not supported "
                        + "by this test broker; use spec.filter.attributes");
            }
            Map<String, String> filter = t.getSpec().getFilter() == null || t.getSpec().getFilter().getAttributes() == null
                    ? Map.of() : Map.copyOf(t.getSpec().getFilter().getAttributes());
            String service = serviceName(t.getSpec().getSubscriber(), where + ": spec.subscriber");
            DeliverySpec d = t.getSpec().getDelivery() != null ? t.getSpec().getDelivery() : b.getSpec().getDelivery();
            routes.add(new Route(t.getMetadata().getName(), filter, service, delivery(d, where, kafka)));
        }
        if (routes.isEmpty()) throw new IllegalStateException("no Trigger on Broker " + name);
        return new KnativeRoutes(name, namespace(resources), routes, requestReply(resources, name));
    }

    /** The namespace of the manifests (their Namespace resource), {@code default} without one. */
    private static String namespace(List<HasMetadata> resources) {
        return resources.stream().filter(r -> "Namespace".equals(r.getKind())).map(r -> r.getMetadata().getName())
                .findFirst().orElse("default");
    }

    /** The RequestReply whose brokerRef names {@code broker} (fabric8's model, Knative's defaults where absent). */
    private static RequestReply requestReply(List<HasMetadata> resources, String broker) {
        for (HasMetadata r : resources) {
            if (!(r instanceof io.fabric8.knative.eventing.v1alpha1.RequestReply rr)) continue; // fabric8 parses it into its model
            if (rr.getSpec() == null || rr.getSpec().getBrokerRef() == null || !broker.equals(rr.getSpec().getBrokerRef().getName())) {
                continue;
            }
            String ns = r.getMetadata().getNamespace() != null ? r.getMetadata().getNamespace() : namespace(resources);
            return new RequestReply(ns, r.getMetadata().getName(), RequestReplies.correlationAttribute(rr),
                    RequestReplies.replyAttribute(rr), RequestReplies.timeout(rr));
        }
        return null;
    }

    /** The Triggers {@code e} passes, in manifest order. */
    List<Route> matching(Event e) {
        return routes.stream().filter(r -> r.matches(e)).toList();
    }

    private static Delivery delivery(DeliverySpec d, String where, boolean kafka) {
        if (d == null) return new Delivery(0, "exponential", Duration.ZERO, null, null, null, kafka);
        return new Delivery(d.getRetry() == null ? 0 : d.getRetry(),
                d.getBackoffPolicy() == null ? "exponential" : d.getBackoffPolicy(),
                d.getBackoffDelay() == null ? Duration.ZERO : Duration.parse(d.getBackoffDelay()),
                d.getTimeout() == null ? null : Duration.parse(d.getTimeout()),
                d.getDeadLetterSink() == null ? null : serviceName(d.getDeadLetterSink(), where + ": deadLetterSink"),
                d.getDeadLetterSink() == null ? null : d.getDeadLetterSink().getUri(), kafka);
    }

    private static String serviceName(Destination d, String where) {
        if (d == null || d.getRef() == null || !"Service".equals(d.getRef().getKind())) {
            throw new IllegalStateException(where + ": expected a ref to a Knative Service, found " + d);
        }
        return d.getRef().getName();
    }
}
