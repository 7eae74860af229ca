package io.qwenaudio.infra;

import io.fabric8.knative.duck.v1.Destination;
import io.fabric8.knative.duck.v1.KReference;
import io.fabric8.knative.eventing.v1alpha1.RequestReply;
import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.qwenaudio.knative.RequestReplies;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checks of the cloud front door on one rendered Deployment: the RequestReply as Knative validates it and as
 * the stages and the gateway use it, the SinkBinding, where dead letters go, which Service is reachable from
 * outside, the blob store the gateway shares with the stages, and the gateway's scaling and sizing. Each check
 * adds what it finds to {@link Problems} (GatewayTest runs them on base and every overlay; GatewayCheckerSelfTest
 * runs them on broken copies).
 */
final class GatewayChecks {

    static final String REPLY_CORRELATION_ENV = FunctionApp.envName(Contract.REPLY_CORRELATION_KEY);
    static final String REPLY_ATTRIBUTE_ENV = FunctionApp.envName(Contract.REPLY_ATTRIBUTE_KEY);
    static final String MODE_ENV = FunctionApp.envName(Contract.MODE_KEY);
    static final String REQUEST_REPLY_URL_ENV = FunctionApp.envName(Contract.REQUEST_REPLY_URL_KEY);
    static final String GATEWAY_TIMEOUT_ENV = FunctionApp.envName(Contract.GATEWAY_TIMEOUT_KEY);
    static final String BLOB_STORE_ENV = FunctionApp.envName("qwen-audio.payload.blob-store");
    static final String BLOB_DIR_ENV = FunctionApp.envName("qwen-audio.payload.blob-dir");
    static final String INLINE_LIMIT_ENV = FunctionApp.envName("qwen-audio.payload.inline-limit");
    static final String ARTIFACTS_ENV = FunctionApp.envName("qwen-audio.artifacts-dir");
    static final String ENVIRONMENTS_ENV_PREFIX = FunctionApp.envName("qwen-audio.adapt.environments.");
    static final String MIN_SCALE = "autoscaling.knative.dev/min-scale";
    static final String MAX_SCALE = "autoscaling.knative.dev/max-scale";
    static final String GPU = "nvidia.com/gpu";
    /** The gateway's requests only wait on the network: many per pod. */
    static final long MIN_GATEWAY_CONCURRENCY = 50;

    private GatewayChecks() {
    }

    /** Runs every check of this class. */
    static void all(Deployment d, Problems p) {
        requestReplyIsValid(d, p);
        replyAttributesMatchTheServices(d, p);
        gatewayCallsTheRequestReply(d, p);
        sinkBindingBindsTheGatewayToTheBroker(d, p);
        deadLettersGoToTheGateway(d, p);
        onlyTheGatewayIsReachableFromOutside(d, p);
        gatewaySharesTheBlobStore(d, p);
        gatewayIsALightCpuService(d, p);
        gatewayKnowsTheAdaptersEnvironments(d, p);
    }

    /** The one RequestReply of a deployment, or null after reporting why there is none. */
    static Deployment.Typed<RequestReply> requestReply(Deployment d, Problems p) {
        if (d.requestReplies.size() != 1) {
            p.add(d + ": expected one RequestReply (" + RequestReplies.API_VERSION + "), found "
                    + d.requestReplies.keySet());
            return null;
        }
        return d.requestReplies.values().iterator().next();
    }

    static Optional<Deployment.Typed<Service>> gateway(Deployment d, Problems p) {
        Optional<Deployment.Typed<Service>> g = d.service(Contract.GATEWAY);
        if (g.isEmpty()) {
            p.add(d + ": expected a Knative Service " + Contract.GATEWAY + ", found " + d.services.keySet());
        }
        return g;
    }

    /**
     * The RequestReply passes Knative's validation (brokerRef a Broker without namespace, attributes not core
     * CloudEvents attributes, timeout a positive ISO-8601 period), names the deployment's Broker, and its
     * attributes are not extensions the events already carry for something else.
     */
    static void requestReplyIsValid(Deployment d, Problems p) {
        var rr = requestReply(d, p);
        if (rr == null) return;
        String where = rr.origin() + ": RequestReply " + rr.resource().getMetadata().getName();
        for (String problem : RequestReplies.validate(rr.resource())) {
            p.add(where + ": " + problem);
        }
        KReference ref = rr.resource().getSpec() == null ? null : rr.resource().getSpec().getBrokerRef();
        if (ref != null) {
            p.check(d.brokers.containsKey(ref.getName()), where + ": spec.brokerRef.name '" + ref.getName()
                    + "' is not a Broker in " + d + " " + d.brokers.keySet());
            p.check("eventing.knative.dev/v1".equals(ref.getApiVersion()), where
                    + ": spec.brokerRef.apiVersion: expected eventing.knative.dev/v1, found " + ref.getApiVersion());
        }
        for (String attr : List.of(RequestReplies.correlationAttribute(rr.resource()),
                RequestReplies.replyAttribute(rr.resource()))) {
            p.check(!attr.equals(Contract.CORRELATION_EXTENSION) && !attr.equals(Contract.ENVIRONMENT_EXTENSION),
                    where + ": attribute '" + attr + "' is already an extension of our events ("
                            + Contract.CORRELATION_EXTENSION + " carries the request id, " + Contract.ENVIRONMENT_EXTENSION
                            + " the adapter): the RequestReply would overwrite it; use its own names"
                            + " (spec.correlationAttribute / spec.replyAttribute)");
        }
    }

    /** Every stage and the gateway name the RequestReply's attributes in their environment. */
    static void replyAttributesMatchTheServices(Deployment d, Problems p) {
        var rr = requestReply(d, p);
        if (rr == null) return;
        String correlation = RequestReplies.correlationAttribute(rr.resource());
        String reply = RequestReplies.replyAttribute(rr.resource());
        List<String> services = new ArrayList<>(Contract.APPS);
        services.add(Contract.GATEWAY);
        for (String name : services) {
            var s = d.service(name);
            if (s.isEmpty()) {
                p.add(d + ": expected a Knative Service " + name + ", found " + d.services.keySet());
                continue;
            }
            Map<String, String> env = Deployment.env(Deployment.container(s.get()));
            String where = s.get().origin() + ": Service " + name + ": spec.template.spec.containers[0].env[";
            p.check(correlation.equals(env.get(REPLY_CORRELATION_ENV)), where + REPLY_CORRELATION_ENV + "]: expected '"
                    + correlation + "' (spec.correlationAttribute of " + rr.origin() + "), found " + env.get(REPLY_CORRELATION_ENV));
            p.check(reply.equals(env.get(REPLY_ATTRIBUTE_ENV)), where + REPLY_ATTRIBUTE_ENV + "]: expected '"
                    + reply + "' (spec.replyAttribute of " + rr.origin() + "), found " + env.get(REPLY_ATTRIBUTE_ENV));
        }
    }

    /**
     * The gateway runs in gateway mode, POSTs to the RequestReply's address ({@code /<namespace>/<name>} of the
     * parsed resource), waits longer than the RequestReply does (its data plane waits one minute whatever
     * spec.timeout says), and its revision timeout is longer still.
     */
    static void gatewayCallsTheRequestReply(Deployment d, Problems p) {
        var rr = requestReply(d, p);
        var g = gateway(d, p);
        if (rr == null || g.isEmpty()) return;
        Map<String, String> env = Deployment.env(Deployment.container(g.get()));
        String where = g.get().origin() + ": Service " + Contract.GATEWAY + ": spec.template.spec";
        p.check(Contract.GATEWAY_MODE.equals(env.get(MODE_ENV)), where + ".containers[0].env[" + MODE_ENV + "]: expected "
                + Contract.GATEWAY_MODE + ", found " + env.get(MODE_ENV));
        String expected;
        try {
            expected = RequestReplies.address(rr.resource()).toString();
        } catch (IllegalArgumentException e) {
            p.add(rr.origin() + ": " + e.getMessage());
            return;
        }
        p.check(expected.equals(env.get(REQUEST_REPLY_URL_ENV)), where + ".containers[0].env[" + REQUEST_REPLY_URL_ENV
                + "]: expected " + expected + " (the address of RequestReply " + rr.resource().getMetadata().getName()
                + " in " + rr.origin() + "), found " + env.get(REQUEST_REPLY_URL_ENV));
        Duration timeout = quarkusDuration(env.get(GATEWAY_TIMEOUT_ENV));
        if (timeout == null) {
            p.add(where + ".containers[0].env[" + GATEWAY_TIMEOUT_ENV + "]: expected a duration such as 70s, found "
                    + env.get(GATEWAY_TIMEOUT_ENV));
            return;
        }
        Duration rrWait = RequestReplies.DATA_PLANE_WAIT;
        try {
            Duration spec = RequestReplies.timeout(rr.resource());
            rrWait = spec.compareTo(rrWait) > 0 ? spec : rrWait;
        } catch (IllegalArgumentException e) {
            // reported by requestReplyIsValid
        }
        p.check(timeout.compareTo(rrWait) > 0, where + ".containers[0].env[" + GATEWAY_TIMEOUT_ENV + "]: "
                + env.get(GATEWAY_TIMEOUT_ENV) + " is not longer than the RequestReply's wait (" + rrWait.toSeconds()
                + " s: its data plane waits " + RequestReplies.DATA_PLANE_WAIT.toSeconds() + " s, spec.timeout "
                + rr.resource().getSpec().getTimeout() + "): the gateway would give up before the RequestReply answers");
        Long revisionTimeout = g.get().resource().getSpec().getTemplate().getSpec().getTimeoutSeconds();
        p.check(revisionTimeout != null && revisionTimeout > timeout.toSeconds(), where + ".timeoutSeconds: expected"
                + " longer than " + GATEWAY_TIMEOUT_ENV + " (" + timeout.toSeconds() + " s), so the gateway answers its own"
                + " timeout before Knative cuts the request, found " + revisionTimeout);
    }

    /** The SinkBinding gives the gateway the Broker's address (K_SINK), the Broker the RequestReply uses. */
    static void sinkBindingBindsTheGatewayToTheBroker(Deployment d, Problems p) {
        var bindings = d.sinkBindings.values().stream().filter(b -> {
            var subject = b.resource().getSpec() == null ? null : b.resource().getSpec().getSubject();
            return subject != null && Contract.GATEWAY.equals(subject.getName());
        }).toList();
        if (bindings.size() != 1) {
            p.add(d + ": expected one SinkBinding whose spec.subject is Service " + Contract.GATEWAY + ", found "
                    + bindings.size() + " among " + d.sinkBindings.keySet());
            return;
        }
        var b = bindings.get(0);
        String where = b.origin() + ": SinkBinding " + b.resource().getMetadata().getName() + ": spec";
        var subject = b.resource().getSpec().getSubject();
        p.check("serving.knative.dev/v1".equals(subject.getApiVersion()) && "Service".equals(subject.getKind()),
                where + ".subject: expected apiVersion serving.knative.dev/v1 kind Service, found "
                        + subject.getApiVersion() + " " + subject.getKind());
        p.check(subject.getSelector() == null, where + ".subject.selector: name the gateway, select nothing else");
        p.check(subject.getNamespace() == null || subject.getNamespace().equals(
                b.resource().getMetadata().getNamespace()), where + ".subject.namespace: must be the binding's own");
        Destination sink = b.resource().getSpec().getSink();
        KReference ref = sink == null ? null : sink.getRef();
        if (ref == null) {
            p.add(where + ".sink.ref: expected the Broker, found " + sink);
            return;
        }
        p.check(sink.getUri() == null, where + ".sink.uri: the Broker's address is the sink; no uri");
        p.check("eventing.knative.dev/v1".equals(ref.getApiVersion()) && "Broker".equals(ref.getKind())
                        && d.brokers.containsKey(ref.getName()),
                where + ".sink.ref: expected a Broker of " + d + " " + d.brokers.keySet() + ", found "
                        + ref.getApiVersion() + " " + ref.getKind() + " " + ref.getName());
        var rr = d.requestReplies.values().stream().findFirst();
        rr.ifPresent(r -> {
            String rrBroker = r.resource().getSpec() == null || r.resource().getSpec().getBrokerRef() == null ? null
                    : r.resource().getSpec().getBrokerRef().getName();
            p.check(Objects.equals(rrBroker, ref.getName()), where + ".sink.ref.name: " + ref.getName()
                    + " is not the Broker of the RequestReply (" + rrBroker + "): the gateway's pipeline.failed would"
                    + " not reach the caller waiting on it");
        });
    }

    /**
     * Every stage Trigger dead-letters to the gateway's dead-letter path; the Broker's default delivery (used by the
     * Triggers of terminal events: the result Triggers and the RequestReply's own) dead-letters elsewhere, because
     * the gateway answers a dead letter with a terminal event that those same Triggers route.
     */
    static void deadLettersGoToTheGateway(Deployment d, Problems p) {
        for (var t : d.triggers.values()) {
            var sub = t.resource().getSpec().getSubscriber();
            String subscriber = sub == null || sub.getRef() == null ? "" : sub.getRef().getName();
            var delivery = t.resource().getSpec().getDelivery();
            Destination dls = delivery == null ? null : delivery.getDeadLetterSink();
            String where = t.origin() + ": Trigger " + t.resource().getMetadata().getName() + ": spec.delivery.deadLetterSink";
            if (Contract.APPS.contains(subscriber)) {
                KReference ref = dls == null ? null : dls.getRef();
                p.check(ref != null && "serving.knative.dev/v1".equals(ref.getApiVersion())
                                && "Service".equals(ref.getKind()) && Contract.GATEWAY.equals(ref.getName()),
                        where + ".ref: expected Service " + Contract.GATEWAY + " (it turns a dead letter into the"
                                + " pipeline.failed its caller waits for), found " + (ref == null ? null
                                : ref.getApiVersion() + " " + ref.getKind() + " " + ref.getName()));
                p.check(dls != null && Contract.DEAD_LETTER_PATH.equals(dls.getUri()), where + ".uri: expected "
                        + Contract.DEAD_LETTER_PATH + " (the gateway's dead-letter path), found "
                        + (dls == null ? null : dls.getUri()));
            } else if (dls != null && dls.getRef() != null) {
                p.check(!Contract.GATEWAY.equals(dls.getRef().getName()), where + ": Trigger of " + subscriber
                        + " dead-letters to the gateway; only stage Triggers may (terminal events would loop)");
            }
        }
        for (var b : d.brokers.values()) {
            var delivery = b.resource().getSpec().getDelivery();
            Destination dls = delivery == null ? null : delivery.getDeadLetterSink();
            String name = dls == null || dls.getRef() == null ? null : dls.getRef().getName();
            p.check(Contract.RESULT_SINK.equals(name), b.origin() + ": Broker " + b.resource().getMetadata().getName()
                    + ": spec.delivery.deadLetterSink.ref: expected Service " + Contract.RESULT_SINK + ", found " + name
                    + (Contract.GATEWAY.equals(name) ? " (the Broker's default delivery serves the Triggers of terminal"
                    + " events; the gateway answers a dead letter with pipeline.failed, which those Triggers route"
                    + " again: a loop)" : ""));
        }
    }

    /** Every Service is cluster-local except the gateway, which is the one on the ingress. */
    static void onlyTheGatewayIsReachableFromOutside(Deployment d, Problems p) {
        for (var s : d.services.values()) {
            String name = s.resource().getMetadata().getName();
            Map<String, String> labels = s.resource().getMetadata().getLabels() == null ? Map.of()
                    : s.resource().getMetadata().getLabels();
            String visibility = labels.get(Contract.VISIBILITY_LABEL);
            String where = s.origin() + ": Service " + name + ": metadata.labels[" + Contract.VISIBILITY_LABEL + "]";
            if (name.equals(Contract.GATEWAY)) {
                p.check(visibility == null, where + ": the gateway is the Service reachable from outside the cluster;"
                        + " remove the label, found " + visibility);
            } else {
                p.check(Contract.CLUSTER_LOCAL.equals(visibility), where + ": expected " + Contract.CLUSTER_LOCAL
                        + " (only the gateway is reachable from outside the cluster), found " + visibility);
            }
        }
    }

    /**
     * The gateway writes uploads above the inline limit to the stages' claim-check store: file store, same
     * directory, same claim (writable), same inline limit as every stage.
     */
    static void gatewaySharesTheBlobStore(Deployment d, Problems p) {
        var g = gateway(d, p);
        if (g.isEmpty()) return;
        Container gc = Deployment.container(g.get());
        Map<String, String> genv = Deployment.env(gc);
        String where = g.get().origin() + ": Service " + Contract.GATEWAY + ": spec.template.spec.containers[0]";
        p.check("file".equals(genv.get(BLOB_STORE_ENV)), where + ".env[" + BLOB_STORE_ENV + "]: expected file (the"
                + " store the stages share), found " + genv.get(BLOB_STORE_ENV));
        String gClaim = claimMountedAt(g.get(), genv.get(BLOB_DIR_ENV));
        p.check(gClaim != null, where + ".volumeMounts: expected a writable mount of a PersistentVolumeClaim at "
                + BLOB_DIR_ENV + " (" + genv.get(BLOB_DIR_ENV) + ")");
        for (String app : Contract.APPS) {
            var s = d.service(app);
            if (s.isEmpty()) continue;
            Map<String, String> env = Deployment.env(Deployment.container(s.get()));
            for (String var : List.of(BLOB_STORE_ENV, BLOB_DIR_ENV, INLINE_LIMIT_ENV)) {
                p.check(Objects.equals(env.get(var), genv.get(var)), where + ".env[" + var + "]: " + genv.get(var)
                        + ", but " + app + " has " + env.get(var) + " (" + s.get().origin() + ")");
            }
            String claim = claimMountedAt(s.get(), env.get(BLOB_DIR_ENV));
            p.check(claim != null && claim.equals(gClaim), where + ".volumeMounts: the blob directory is claim "
                    + gClaim + ", but " + app + " mounts claim " + claim + " there: the stages would not find the"
                    + " gateway's uploads");
        }
    }

    /** The PVC mounted writable at {@code path}, or null. */
    private static String claimMountedAt(Deployment.Typed<Service> s, String path) {
        if (path == null) return null;
        Optional<VolumeMount> m = ServiceContractTest.mountAt(Deployment.container(s), path);
        if (m.isEmpty() || Boolean.TRUE.equals(m.get().getReadOnly())) return null;
        return ServiceContractTest.volume(s, m.get().getName())
                .map(v -> v.getPersistentVolumeClaim() == null ? null : v.getPersistentVolumeClaim().getClaimName())
                .orElse(null);
    }

    /**
     * The gateway scales to zero with a bounded max-scale, takes many requests per pod, is sized for CPU in every
     * overlay (requests, a memory limit, no GPU, no execution provider) and loads no model (no artifacts directory,
     * no model volume).
     */
    static void gatewayIsALightCpuService(Deployment d, Problems p) {
        var g = gateway(d, p);
        if (g.isEmpty()) return;
        String where = g.get().origin() + ": Service " + Contract.GATEWAY + ": spec.template";
        Map<String, String> annotations = Deployment.templateAnnotations(g.get());
        p.check("0".equals(annotations.get(MIN_SCALE)), where + ".metadata.annotations[" + MIN_SCALE + "]: expected \"0\""
                + " (scale to zero), found " + annotations.get(MIN_SCALE));
        String max = annotations.get(MAX_SCALE);
        p.check(max != null && max.matches("[1-9]\\d*"), where + ".metadata.annotations[" + MAX_SCALE
                + "]: expected a bound >= 1, found " + max);
        var spec = g.get().resource().getSpec().getTemplate().getSpec();
        Long cc = spec.getContainerConcurrency();
        p.check(cc != null && cc >= MIN_GATEWAY_CONCURRENCY, where + ".spec.containerConcurrency: expected at least "
                + MIN_GATEWAY_CONCURRENCY + " (requests only wait on the network), found " + cc);
        Container c = Deployment.container(g.get());
        var res = c.getResources();
        Map<String, Quantity> requests = res == null || res.getRequests() == null ? Map.of() : res.getRequests();
        Map<String, Quantity> limits = res == null || res.getLimits() == null ? Map.of() : res.getLimits();
        p.check(requests.containsKey("cpu") && requests.containsKey("memory") && limits.containsKey("memory"),
                where + ".spec.containers[0].resources: expected requests.cpu, requests.memory and limits.memory, found "
                        + res);
        if (requests.containsKey("memory") && limits.containsKey("memory")) {
            p.check(Quantity.getAmountInBytes(limits.get("memory")).compareTo(
                    Quantity.getAmountInBytes(requests.get("memory"))) >= 0, where
                    + ".spec.containers[0].resources: limits.memory below requests.memory");
        }
        p.check(!requests.containsKey(GPU) && !limits.containsKey(GPU), where + ".spec.containers[0].resources: "
                + GPU + " requested; the gateway runs no model");
        Map<String, String> env = Deployment.env(c);
        String provider = FunctionApp.envName("qwen-audio.runtime.execution-provider");
        p.check(!env.containsKey(provider), where + ".spec.containers[0].env[" + provider + "]: the gateway runs no model");
        p.check(!env.containsKey(ARTIFACTS_ENV), where + ".spec.containers[0].env[" + ARTIFACTS_ENV
                + "]: the gateway loads no model");
        var volumes = spec.getVolumes() == null ? List.<Volume>of() : spec.getVolumes();
        for (var v : volumes) {
            var pvc = v.getPersistentVolumeClaim();
            boolean modelClaim = pvc != null && d.services.values().stream()
                    .filter(s -> Contract.APPS.contains(s.resource().getMetadata().getName()))
                    .anyMatch(s -> {
                        String dir = Deployment.env(Deployment.container(s)).get(ARTIFACTS_ENV);
                        return dir != null && ServiceContractTest.mountAt(Deployment.container(s), dir)
                                .flatMap(m -> ServiceContractTest.volume(s, m.getName()))
                                .map(sv -> sv.getPersistentVolumeClaim() != null
                                        && pvc.getClaimName().equals(sv.getPersistentVolumeClaim().getClaimName()))
                                .orElse(false);
                    });
            p.check(!modelClaim, where + ".spec.volumes[" + v.getName() + "]: mounts the model volume "
                    + pvc.getClaimName() + "; the gateway loads no model");
        }
    }

    /** The gateway lists the same environments (adapter directories) as adapt-function, for the playground. */
    static void gatewayKnowsTheAdaptersEnvironments(Deployment d, Problems p) {
        var g = gateway(d, p);
        var adapt = d.service("adapt-function");
        if (g.isEmpty() || adapt.isEmpty()) return;
        Map<String, String> gateway = environments(Deployment.env(Deployment.container(g.get())));
        Map<String, String> stage = environments(Deployment.env(Deployment.container(adapt.get())));
        p.check(gateway.equals(stage), g.get().origin() + ": Service " + Contract.GATEWAY
                + ": spec.template.spec.containers[0].env: " + ENVIRONMENTS_ENV_PREFIX + "*: expected adapt-function's "
                + stage + " (" + adapt.get().origin() + "), found " + gateway);
    }

    private static Map<String, String> environments(Map<String, String> env) {
        Map<String, String> out = new TreeMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith(ENVIRONMENTS_ENV_PREFIX)) out.put(k, v);
        });
        return out;
    }

    private static final Pattern AMOUNT_UNIT = Pattern.compile("(\\d+)(ms|d)");

    /**
     * A duration as Quarkus (SmallRye Config) reads one: a number alone is seconds; a number with {@code ms} or
     * {@code d}; an ISO-8601 duration; otherwise {@code PT} + the text ({@code 70s}, {@code 1m}, {@code 1h30m}).
     * Null when it is none of these.
     */
    static Duration quarkusDuration(String value) {
        if (value == null || value.isBlank()) return null;
        String v = value.trim();
        try {
            if (v.matches("\\d+")) return Duration.ofSeconds(Long.parseLong(v));
            Matcher m = AMOUNT_UNIT.matcher(v);
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return m.group(2).equals("ms") ? Duration.ofMillis(n) : Duration.ofDays(n);
            }
            if (v.startsWith("P") || v.startsWith("p") || v.startsWith("-P")) return Duration.parse(v);
            return Duration.parse("PT" + v);
        } catch (DateTimeParseException | NumberFormatException e) {
            return null;
        }
    }
}
