package io.qwenaudio.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The gateway checks report broken copies of the manifests: each test changes one thing in a copy of the rendered
 * base (or gpu overlay) and expects the check to name it, after checking that the unchanged copy passes.
 */
class GatewayCheckerSelfTest {

    /** A copy of {@code d} with {@code edit} applied to the tree of resource {@code kind/name}. */
    static Deployment broken(Deployment d, String kind, String name, Consumer<ObjectNode> edit) {
        List<Manifest> copy = new ArrayList<>();
        boolean found = false;
        for (Manifest m : d.manifests) {
            ObjectNode tree = m.tree().deepCopy();
            if (m.kind().equals(kind) && m.name().equals(name)) {
                edit.accept(tree);
                found = true;
            }
            copy.add(new Manifest(m.origin(), tree));
        }
        assertTrue(found, d + " has no " + kind + "/" + name);
        return Deployment.of(d.label + " (broken copy)", copy);
    }

    /** Runs {@code check} on {@code d} unchanged (no problem) and on the broken copy (a problem naming {@code expected}). */
    static void reports(BiConsumer<Deployment, Problems> check, Deployment d, Deployment brokenCopy, String... expected) {
        Problems clean = new Problems("clean");
        check.accept(d, clean);
        assertEquals(List.of(), clean.lines(), "the unchanged manifests pass");
        Problems found = new Problems("broken");
        check.accept(brokenCopy, found);
        for (String e : expected) {
            assertTrue(found.lines().stream().anyMatch(l -> l.contains(e)), "expected a problem containing '" + e
                    + "', found " + found.lines());
        }
    }

    static ObjectNode at(ObjectNode tree, String pointer) {
        JsonNode n = tree.at(pointer);
        assertTrue(n instanceof ObjectNode, pointer + " is not an object in " + tree);
        return (ObjectNode) n;
    }

    /** Sets (or, with null, removes) an environment variable of the single container. */
    static Consumer<ObjectNode> env(String name, String value) {
        return tree -> {
            ArrayNode env = (ArrayNode) tree.at("/spec/template/spec/containers/0/env");
            for (int i = 0; i < env.size(); i++) {
                if (env.get(i).path("name").asText().equals(name)) {
                    if (value == null) {
                        env.remove(i);
                    } else {
                        ((ObjectNode) env.get(i)).put("value", value);
                    }
                    return;
                }
            }
            if (value != null) env.addObject().put("name", name).put("value", value);
        };
    }

    static Deployment base() {
        return Deployment.base();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            correlationAttribute | correlationid    | already an extension of our events
            correlationAttribute | environment      | already an extension of our events
            correlationAttribute | id               | spec.correlationAttribute: cannot be a core
            replyAttribute       | source           | spec.replyAttribute: cannot be a core
            replyAttribute       | replycorrelation | must differ from spec.correlationAttribute
            timeout              | PT0S             | spec.timeout: must be a positive duration
            timeout              | 60s              | spec.timeout: expected an ISO-8601 period
            """)
    void badRequestReplyFieldsAreReported(String field, String value, String expected) {
        reports(GatewayChecks::requestReplyIsValid, base(),
                broken(base(), "RequestReply", "qwen-audio", t -> at(t, "/spec").put(field, value)), expected);
    }

    @Test
    void requestReplyBrokerRefIsChecked() {
        reports(GatewayChecks::requestReplyIsValid, base(), broken(base(), "RequestReply", "qwen-audio",
                t -> at(t, "/spec/brokerRef").put("namespace", "qwen-audio")), "spec.brokerRef.namespace: not allowed");
        reports(GatewayChecks::requestReplyIsValid, base(), broken(base(), "RequestReply", "qwen-audio",
                t -> at(t, "/spec/brokerRef").put("kind", "InMemoryChannel")), "spec.brokerRef.kind: must be Broker");
        reports(GatewayChecks::requestReplyIsValid, base(), broken(base(), "RequestReply", "qwen-audio",
                t -> at(t, "/spec/brokerRef").put("name", "other")), "spec.brokerRef.name 'other' is not a Broker");
    }

    @Test
    void aMissingRequestReplyIsReported() {
        List<Manifest> without = base().manifests.stream().filter(m -> !m.kind().equals("RequestReply")).toList();
        Problems p = new Problems("x");
        GatewayChecks.requestReplyIsValid(Deployment.of("without", without), p);
        assertTrue(p.lines().get(0).contains("expected one RequestReply"), p.lines().toString());
    }

    @Test
    void aStageOrGatewayWithOtherReplyAttributesIsReported() {
        reports(GatewayChecks::replyAttributesMatchTheServices, base(), broken(base(), "Service", "generate-function",
                env(GatewayChecks.REPLY_ATTRIBUTE_ENV, "reply")), "Service generate-function", "expected 'replyid'");
        reports(GatewayChecks::replyAttributesMatchTheServices, base(), broken(base(), "Service", "encode-function",
                env(GatewayChecks.REPLY_CORRELATION_ENV, null)), "Service encode-function", "found null");
        reports(GatewayChecks::replyAttributesMatchTheServices, base(), broken(base(), "Service", Contract.GATEWAY,
                env(GatewayChecks.REPLY_CORRELATION_ENV, "correlationid")), "Service gateway");
        // renaming the attribute in the RequestReply alone breaks every Service
        Deployment renamed = broken(base(), "RequestReply", "qwen-audio", t -> at(t, "/spec").put("replyAttribute", "answerto"));
        Problems p = new Problems("x");
        GatewayChecks.replyAttributesMatchTheServices(renamed, p);
        assertEquals(Contract.APPS.size() + 1, p.lines().size(), p.lines().toString());
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL | http://request-reply.knative-eventing.svc.cluster.local/qwen-audio/other | the address of RequestReply qwen-audio
            QWEN_AUDIO_GATEWAY_REQUEST_REPLY_URL | http://request-reply.knative-eventing.svc.cluster.local/default/qwen-audio | the address of RequestReply qwen-audio
            QWEN_AUDIO_GATEWAY_TIMEOUT           | 60s       | is not longer than the RequestReply's wait
            QWEN_AUDIO_GATEWAY_TIMEOUT           | 30        | is not longer than the RequestReply's wait
            QWEN_AUDIO_GATEWAY_TIMEOUT           | soon      | expected a duration such as 70s
            QWEN_AUDIO_GATEWAY_TIMEOUT           | 130s      | .timeoutSeconds: expected longer than
            QWEN_AUDIO_MODE                      | stages    | expected gateway
            """)
    void gatewayThatDoesNotReachOrOutwaitTheRequestReplyIsReported(String var, String value, String expected) {
        reports(GatewayChecks::gatewayCallsTheRequestReply, base(),
                broken(base(), "Service", Contract.GATEWAY, env(var, value)), expected);
    }

    @Test
    void aRequestReplyRenamedWithoutTheGatewayIsReported() {
        reports(GatewayChecks::gatewayCallsTheRequestReply, base(), broken(base(), "RequestReply", "qwen-audio",
                t -> at(t, "/metadata").put("name", "renamed")), "expected http://request-reply.knative-eventing.svc.cluster.local/qwen-audio/renamed");
        reports(GatewayChecks::gatewayCallsTheRequestReply, base(), broken(base(), "RequestReply", "qwen-audio",
                t -> at(t, "/spec").put("timeout", "PT2M")), "is not longer than the RequestReply's wait (120 s");
    }

    @Test
    void sinkBindingToSomethingElseIsReported() {
        reports(GatewayChecks::sinkBindingBindsTheGatewayToTheBroker, base(), broken(base(), "SinkBinding", "gateway-broker",
                t -> at(t, "/spec/subject").put("name", "encode-function")), "expected one SinkBinding whose spec.subject is Service gateway");
        reports(GatewayChecks::sinkBindingBindsTheGatewayToTheBroker, base(), broken(base(), "SinkBinding", "gateway-broker",
                t -> at(t, "/spec/sink/ref").put("apiVersion", "serving.knative.dev/v1").put("kind", "Service")
                        .put("name", "pipeline-results")), "spec.sink.ref: expected a Broker");
        reports(GatewayChecks::sinkBindingBindsTheGatewayToTheBroker, base(), broken(base(), "SinkBinding", "gateway-broker",
                t -> at(t, "/spec/subject").put("kind", "Deployment").put("apiVersion", "apps/v1")), "spec.subject: expected apiVersion serving.knative.dev/v1 kind Service");
    }

    @Test
    void deadLettersElsewhereAreReported() {
        reports(GatewayChecks::deadLettersGoToTheGateway, base(), broken(base(), "Trigger", "generate",
                t -> at(t, "/spec/delivery/deadLetterSink/ref").put("name", Contract.RESULT_SINK)),
                "Trigger generate: spec.delivery.deadLetterSink.ref: expected Service gateway");
        reports(GatewayChecks::deadLettersGoToTheGateway, base(), broken(base(), "Trigger", "adapt",
                t -> at(t, "/spec/delivery/deadLetterSink").remove("uri")),
                "Trigger adapt: spec.delivery.deadLetterSink.uri: expected /v1/events/dead-letter");
        reports(GatewayChecks::deadLettersGoToTheGateway, base(), broken(base(), "Broker", "qwen-audio",
                t -> at(t, "/spec/delivery/deadLetterSink/ref").put("name", Contract.GATEWAY)), "a loop");
    }

    @Test
    void exposedStagesAndAHiddenGatewayAreReported() {
        reports(GatewayChecks::onlyTheGatewayIsReachableFromOutside, base(), broken(base(), "Service", "adapt-function",
                t -> at(t, "/metadata/labels").remove(Contract.VISIBILITY_LABEL)), "Service adapt-function", "expected cluster-local");
        reports(GatewayChecks::onlyTheGatewayIsReachableFromOutside, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> at(t, "/metadata/labels").put(Contract.VISIBILITY_LABEL, Contract.CLUSTER_LOCAL)),
                "the gateway is the Service reachable from outside");
    }

    @Test
    void aGatewayWithAnotherBlobStoreIsReported() {
        reports(GatewayChecks::gatewaySharesTheBlobStore, base(), broken(base(), "Service", Contract.GATEWAY,
                env(GatewayChecks.INLINE_LIMIT_ENV, "1M")), "QWEN_AUDIO_PAYLOAD_INLINE_LIMIT]: 1M, but encode-function has 256K");
        reports(GatewayChecks::gatewaySharesTheBlobStore, base(), broken(base(), "Service", Contract.GATEWAY,
                env(GatewayChecks.BLOB_DIR_ENV, "/tmp/blobs")), "QWEN_AUDIO_PAYLOAD_BLOB_DIR]: /tmp/blobs", "expected a writable mount");
        reports(GatewayChecks::gatewaySharesTheBlobStore, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> at(t, "/spec/template/spec/volumes/0/persistentVolumeClaim").put("claimName", "other-blobs")),
                "the blob directory is claim other-blobs");
        reports(GatewayChecks::gatewaySharesTheBlobStore, base(), broken(base(), "Service", Contract.GATEWAY,
                env(GatewayChecks.BLOB_STORE_ENV, "memory")), "expected file");
    }

    @Test
    void aHeavyOrAlwaysOnGatewayIsReported() {
        String annotations = "/spec/template/metadata/annotations";
        reports(GatewayChecks::gatewayIsALightCpuService, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> at(t, annotations).put(GatewayChecks.MIN_SCALE, "1")), "min-scale]: expected \"0\"");
        reports(GatewayChecks::gatewayIsALightCpuService, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> at(t, annotations).remove(GatewayChecks.MAX_SCALE)), "max-scale]: expected a bound");
        reports(GatewayChecks::gatewayIsALightCpuService, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> at(t, "/spec/template/spec").put("containerConcurrency", 4)), "containerConcurrency: expected at least");
        reports(GatewayChecks::gatewayIsALightCpuService, base(), broken(base(), "Service", Contract.GATEWAY,
                env(GatewayChecks.ARTIFACTS_ENV, "/models/qwen2-audio")), "the gateway loads no model");
        Deployment gpu = Deployment.overlay("gpu");
        reports(GatewayChecks::gatewayIsALightCpuService, gpu, broken(gpu, "Service", Contract.GATEWAY,
                t -> at(t, "/spec/template/spec/containers/0/resources/limits").put(GatewayChecks.GPU, "1")),
                "nvidia.com/gpu requested");
        reports(GatewayChecks::gatewayIsALightCpuService, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> ((ArrayNode) t.at("/spec/template/spec/volumes")).addObject().put("name", "models")
                        .putObject("persistentVolumeClaim").put("claimName", "qwen-audio-models")),
                "mounts the model volume qwen-audio-models");
    }

    @Test
    void aGatewayWithoutTheAdaptersEnvironmentsIsReported() {
        reports(GatewayChecks::gatewayKnowsTheAdaptersEnvironments, base(), broken(base(), "Service", Contract.GATEWAY,
                env("QWEN_AUDIO_ADAPT_ENVIRONMENTS_LDV", null)), "expected adapt-function's {QWEN_AUDIO_ADAPT_ENVIRONMENTS_LDV=adapters/ldv}");
        reports(GatewayChecks::gatewayKnowsTheAdaptersEnvironments, base(), broken(base(), "Service", "adapt-function",
                env("QWEN_AUDIO_ADAPT_ENVIRONMENTS_STUDIO", "adapters/studio")), "QWEN_AUDIO_ADAPT_ENVIRONMENTS_STUDIO");
    }

    @Test
    void aGatewayVariableThatIsNoKeyIsReported() {
        BiConsumer<Deployment, Problems> contract = (d, p) ->
                ServiceContractTest.checkService(d, d.service(Contract.GATEWAY).orElseThrow(), Apps.gateway(), false, p);
        reports(contract, base(), broken(base(), "Service", Contract.GATEWAY, env("QWEN_AUDIO_GATEWAY_TIMOUT", "70s")),
                "env[QWEN_AUDIO_GATEWAY_TIMOUT]: no such configuration key");
        BiConsumer<Deployment, Problems> encode = (d, p) -> ServiceContractTest.checkService(d,
                d.service("encode-function").orElseThrow(), FunctionApp.load("encode-function"), true, p);
        reports(encode, base(), broken(base(), "Service", "encode-function", env(GatewayChecks.MODE_ENV, "gateway")),
                "env[QWEN_AUDIO_MODE]: no such configuration key");
        reports(contract, base(), broken(base(), "Service", Contract.GATEWAY,
                t -> at(t, "/spec/template/spec/containers/0/readinessProbe/httpGet").put("path", "/ready")),
                "readinessProbe.httpGet.path: expected /q/health/ready");
    }

    @Test
    void durationsAreReadAsQuarkusReadsThem() {
        assertEquals(Duration.ofSeconds(70), GatewayChecks.quarkusDuration("70s"));
        assertEquals(Duration.ofSeconds(70), GatewayChecks.quarkusDuration("70"));
        assertEquals(Duration.ofSeconds(70), GatewayChecks.quarkusDuration("PT70S"));
        assertEquals(Duration.ofMinutes(1), GatewayChecks.quarkusDuration("1m"));
        assertEquals(Duration.ofMillis(1500), GatewayChecks.quarkusDuration("1500ms"));
        assertEquals(Duration.ofDays(2), GatewayChecks.quarkusDuration("2d"));
        assertEquals(Duration.ofMinutes(90), GatewayChecks.quarkusDuration("1h30m"));
        assertNull(GatewayChecks.quarkusDuration("soon"));
        assertNull(GatewayChecks.quarkusDuration(""));
        assertNotEquals(Duration.ofSeconds(70), GatewayChecks.quarkusDuration("70m"));
    }
}
