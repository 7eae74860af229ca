package io.qwenaudio.knative;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.knative.eventing.v1alpha1.RequestReply;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestRepliesTest {

    static final String FULL = """
            apiVersion: eventing.knative.dev/v1alpha1
            kind: RequestReply
            metadata:
              name: qwen-audio
              namespace: audio
            spec:
              brokerRef:
                apiVersion: eventing.knative.dev/v1
                kind: Broker
                name: qwen-audio
              correlationAttribute: replycorrelation
              replyAttribute: replyid
              timeout: PT1M
              delivery:
                retry: 2
                backoffPolicy: linear
                backoffDelay: PT0.5S
                deadLetterSink:
                  ref:
                    apiVersion: serving.knative.dev/v1
                    kind: Service
                    name: gateway
                  uri: /v1/events/dead-letter
            """;

    /** A minimal RequestReply with {@code spec} lines appended under {@code brokerRef}. */
    static String withSpec(String specLines) {
        return """
                apiVersion: eventing.knative.dev/v1alpha1
                kind: RequestReply
                metadata:
                  name: rr
                  namespace: ns
                spec:
                  brokerRef:
                    apiVersion: eventing.knative.dev/v1
                    kind: Broker
                    name: b
                """ + specLines.indent(2);
    }

    @Test
    void thePlainSerializerYieldsTheModelClassWithEveryField() {
        Object plain = new KubernetesSerialization().unmarshal(FULL);
        RequestReply rr = assertInstanceOf(RequestReply.class, plain);
        assertEquals(rr, RequestReplies.parse(FULL));
        var spec = rr.getSpec();
        assertEquals("qwen-audio", rr.getMetadata().getName());
        assertEquals("audio", rr.getMetadata().getNamespace());
        assertEquals("eventing.knative.dev/v1", spec.getBrokerRef().getApiVersion());
        assertEquals("Broker", spec.getBrokerRef().getKind());
        assertEquals("qwen-audio", spec.getBrokerRef().getName());
        assertNull(spec.getBrokerRef().getNamespace());
        assertEquals("replycorrelation", spec.getCorrelationAttribute());
        assertEquals("replyid", spec.getReplyAttribute());
        assertEquals("PT1M", spec.getTimeout());
        assertEquals(2, spec.getDelivery().getRetry());
        assertEquals("linear", spec.getDelivery().getBackoffPolicy());
        assertEquals("PT0.5S", spec.getDelivery().getBackoffDelay());
        assertEquals("gateway", spec.getDelivery().getDeadLetterSink().getRef().getName());
        assertEquals("/v1/events/dead-letter", spec.getDelivery().getDeadLetterSink().getUri());
        assertEquals(List.of(), RequestReplies.unknownFields(rr));
        assertEquals(List.of(), RequestReplies.validate(rr));

        assertEquals("replycorrelation", RequestReplies.correlationAttribute(rr));
        assertEquals("replyid", RequestReplies.replyAttribute(rr));
        assertEquals(Duration.ofMinutes(1), RequestReplies.timeout(rr));
        assertEquals("/audio/qwen-audio", RequestReplies.path(rr));
        assertEquals(URI.create("http://request-reply.knative-eventing.svc.cluster.local/audio/qwen-audio"),
                RequestReplies.address(rr));
    }

    @Test
    void unsetFieldsTakeKnativesDefaults() {
        RequestReply rr = RequestReplies.parse(withSpec(""));
        assertEquals("correlationid", RequestReplies.correlationAttribute(rr));
        assertEquals("replyid", RequestReplies.replyAttribute(rr));
        assertEquals(Duration.ofSeconds(30), RequestReplies.timeout(rr));
        assertEquals(List.of(), RequestReplies.validate(rr));
    }

    @Test
    void aMisspelledFieldIsRejectedByItsPath() {
        String typo = FULL.replace("replyAttribute:", "replyAtribute:").replace("backoffPolicy:", "backofPolicy:");
        // the plain model accepts it and keeps the field aside
        RequestReply lax = assertInstanceOf(RequestReply.class, new KubernetesSerialization().unmarshal(typo));
        assertNull(lax.getSpec().getReplyAttribute());
        assertEquals(List.of("spec.replyAtribute", "spec.delivery.backofPolicy"), RequestReplies.unknownFields(lax));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RequestReplies.parse(typo));
        assertTrue(e.getMessage().contains("spec.replyAtribute") && e.getMessage().contains("spec.delivery.backofPolicy"),
                e.getMessage());

        String refTypo = FULL.replace("    name: qwen-audio\n  correlation", "    nmae: qwen-audio\n  correlation");
        IllegalArgumentException ref = assertThrows(IllegalArgumentException.class, () -> RequestReplies.parse(refTypo));
        assertTrue(ref.getMessage().contains("spec.brokerRef.nmae"), ref.getMessage());
    }

    @Test
    void anotherKindIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RequestReplies.parse("""
                apiVersion: eventing.knative.dev/v1
                kind: Broker
                metadata:
                  name: qwen-audio
                """));
        assertTrue(e.getMessage().contains("RequestReply"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            correlationAttribute: id                      | spec.correlationAttribute: cannot be a core
            correlationAttribute: source                  | spec.correlationAttribute: cannot be a core
            replyAttribute: type                          | spec.replyAttribute: cannot be a core
            replyAttribute: specversion                   | spec.replyAttribute: cannot be a core
            replyAttribute: reply-id                      | spec.replyAttribute: a CloudEvents attribute name
            correlationAttribute: x;replyAttribute: x     | must differ from spec.correlationAttribute
            timeout: PT0S                                 | spec.timeout: must be a positive duration
            timeout: -PT1M                                | spec.timeout: must be a positive duration
            timeout: 1m                                   | spec.timeout: expected an ISO-8601 period
            timeout: P                                    | spec.timeout: expected an ISO-8601 period
            secrets: [keys]                               | spec.secrets: not a field
            delivery:;  backoffPolicy: sometimes          | spec.delivery.backoffPolicy
            delivery:;  retry: -1                         | spec.delivery.retry
            """)
    void knativesValidationRulesAreReported(String spec, String expected) {
        // ';' separates the lines of the spec snippet
        List<String> problems = RequestReplies.validate(RequestReplies.parse(withSpec(spec.replace(";", "\n"))));
        assertTrue(problems.stream().anyMatch(p -> p.contains(expected)), "expected '" + expected + "' in " + problems);
    }

    @Test
    void brokerRefMustBeABrokerInTheSameNamespace() {
        String channel = withSpec("").replace("kind: Broker", "kind: InMemoryChannel");
        assertTrue(RequestReplies.validate(RequestReplies.parse(channel)).stream()
                .anyMatch(p -> p.startsWith("spec.brokerRef.kind")));
        String elsewhere = withSpec("").replace("    name: b\n", "    name: b\n    namespace: other\n");
        assertTrue(RequestReplies.validate(RequestReplies.parse(elsewhere)).stream()
                .anyMatch(p -> p.startsWith("spec.brokerRef.namespace")));
        String nameless = withSpec("").replace("    name: b\n", "");
        assertTrue(RequestReplies.validate(RequestReplies.parse(nameless)).stream()
                .anyMatch(p -> p.startsWith("spec.brokerRef.name")));
    }

    @Test
    void theAddressNeedsANamespace() {
        RequestReply rr = RequestReplies.parse(withSpec("").replace("  namespace: ns\n", ""));
        assertThrows(IllegalArgumentException.class, () -> RequestReplies.address(rr));
    }

    @ParameterizedTest
    @CsvSource({"PT1M, 60000", "PT70S, 70000", "PT0.5S, 500", "P1DT2H, 93600000", "P1W, 604800000", "-PT1S, -1000",
            "PT1H30M, 5400000"})
    void periodsParseAsKnativeReadsThem(String iso, long millis) {
        assertEquals(Duration.ofMillis(millis), RequestReplies.period(iso));
    }

    @ParameterizedTest
    @CsvSource({"P", "PT", "P1DT", "60", "1m", "PT1X", "T1M"})
    void nonPeriodsAreNull(String text) {
        assertNull(RequestReplies.period(text));
    }
}
