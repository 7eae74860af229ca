package io.qwenaudio.infra;

import io.fabric8.knative.duck.v1.DeliverySpec;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Delivery: the Broker and every stage Trigger retry with backoff and then dead-letter to an existing Service
 * that is not a stage (which one: GatewayTest); a Trigger's per-attempt timeout is not shorter than its Service's
 * request timeout.
 */
class DeliveryTest {

    @Test
    void brokerRetriesThenDeadLetters() {
        Problems problems = new Problems("Broker delivery");
        for (Deployment d : Deployment.all()) {
            for (var b : d.brokers.values()) {
                checkDelivery(d, b.origin() + ": Broker " + b.resource().getMetadata().getName() + ": spec.delivery",
                        b.resource().getSpec().getDelivery(), problems);
            }
        }
        problems.assertNone();
    }

    @Test
    void everyTriggerHasADeadLetterSink() {
        Problems problems = new Problems("Trigger delivery");
        for (Deployment d : Deployment.all()) {
            for (var t : d.triggers.values()) {
                String where = t.origin() + ": Trigger " + t.resource().getMetadata().getName() + ": spec.delivery";
                DeliverySpec own = t.resource().getSpec().getDelivery();
                boolean stage = Contract.APPS.contains(t.resource().getSpec().getSubscriber().getRef().getName());
                if (own != null) {
                    checkDelivery(d, where, own, problems);
                } else {
                    problems.check(!stage, where + ": a stage Trigger needs its own delivery (timeout sized to the stage,"
                            + " retries, deadLetterSink)");
                    var broker = d.brokers.get(t.resource().getSpec().getBroker());
                    problems.check(broker != null && broker.resource().getSpec().getDelivery() != null
                                    && broker.resource().getSpec().getDelivery().getDeadLetterSink() != null,
                            where + ": not set, and the Broker has no spec.delivery.deadLetterSink either");
                }
            }
        }
        problems.assertNone();
    }

    @Test
    void triggerTimeoutCoversTheServiceTimeout() {
        Problems problems = new Problems("timeouts");
        for (Deployment d : Deployment.all()) {
            for (var t : d.triggers.values()) {
                DeliverySpec delivery = t.resource().getSpec().getDelivery();
                String service = t.resource().getSpec().getSubscriber().getRef().getName();
                if (delivery == null || delivery.getTimeout() == null || d.service(service).isEmpty()) {
                    continue;
                }
                Long serviceTimeout = d.services.get(service).resource().getSpec().getTemplate().getSpec().getTimeoutSeconds();
                Duration timeout = parse(delivery.getTimeout());
                if (serviceTimeout != null && timeout != null) {
                    problems.check(timeout.getSeconds() >= serviceTimeout, t.origin() + ": Trigger "
                            + t.resource().getMetadata().getName() + ": spec.delivery.timeout " + delivery.getTimeout()
                            + " is shorter than Service " + service + " spec.template.spec.timeoutSeconds " + serviceTimeout
                            + " in " + d + ": the broker would give up and retry while the stage is still working");
                }
            }
        }
        problems.assertNone();
    }

    private static void checkDelivery(Deployment d, String where, DeliverySpec delivery, Problems problems) {
        if (delivery == null) {
            problems.add(where + ": not set (expected retry, backoffPolicy, backoffDelay, deadLetterSink)");
            return;
        }
        problems.check(delivery.getRetry() != null && delivery.getRetry() >= 1, where + ".retry: expected >= 1, found "
                + delivery.getRetry());
        problems.check(Set.of("exponential", "linear").contains(delivery.getBackoffPolicy()), where
                + ".backoffPolicy: expected exponential or linear, found " + delivery.getBackoffPolicy());
        Duration delay = delivery.getBackoffDelay() == null ? null : parse(delivery.getBackoffDelay());
        problems.check(delay != null && !delay.isNegative() && !delay.isZero(), where
                + ".backoffDelay: expected an ISO-8601 duration such as PT1S, found " + delivery.getBackoffDelay());
        if (delivery.getTimeout() != null) {
            problems.check(parse(delivery.getTimeout()) != null, where + ".timeout: expected an ISO-8601 duration, found "
                    + delivery.getTimeout());
        }
        var sink = delivery.getDeadLetterSink();
        if (sink == null || sink.getRef() == null) {
            problems.add(where + ".deadLetterSink.ref: not set");
            return;
        }
        String name = sink.getRef().getName();
        problems.check("Service".equals(sink.getRef().getKind()) && d.services.containsKey(name),
                where + ".deadLetterSink.ref: expected a Knative Service of " + d + " " + d.services.keySet()
                        + ", found " + sink.getRef().getKind() + " " + name);
        problems.check(!Contract.APPS.contains(name), where + ".deadLetterSink.ref.name: " + name
                + " is a stage; dead letters go to " + Contract.GATEWAY + " (stage Triggers) or " + Contract.RESULT_SINK
                + " (the Broker's default)");
    }

    private static Duration parse(String iso) {
        try {
            return Duration.parse(iso);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
