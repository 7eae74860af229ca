package io.qwenaudio.knative;

import io.fabric8.knative.duck.v1.DeliverySpec;
import io.fabric8.knative.duck.v1.Destination;
import io.fabric8.knative.duck.v1.KReference;
import io.fabric8.knative.eventing.v1alpha1.RequestReply;
import io.fabric8.knative.eventing.v1alpha1.RequestReplySpec;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Knative's rules for the RequestReply resource ({@code eventing.knative.dev/v1alpha1}, served with a data plane
 * since Knative Eventing 1.20), for code that reads RequestReply manifests: strict parsing into the fabric8 model
 * class, the defaults and the validation of Knative's webhook, and the address of the data plane.
 * <p>
 * The fabric8 Knative model has the class ({@link RequestReply}) and lists it for the service loading of
 * {@link KubernetesSerialization}, so {@code new KubernetesSerialization().unmarshal(yaml)} yields it without any
 * registration; {@link #parse} adds what the model does not do: it rejects fields the model does not know.
 * <p>
 * How the data plane works (knative/eventing {@code pkg/requestreply}): an event POSTed to
 * {@code http://request-reply.knative-eventing.svc.cluster.local/<namespace>/<name>} gets the correlation attribute
 * {@code <ce-id>:<base64url(AES-GCM(ce-id))>:<pod index>} and is sent to the Broker; the first event on the Broker
 * whose reply attribute carries that value (the controller creates Triggers for it) is returned as the HTTP response,
 * a binary-mode CloudEvent with status 200. The data plane waits {@link #DATA_PLANE_WAIT} whatever
 * {@code spec.timeout} says (the timeout only drives the clean-up), then answers 200 with an empty body.
 */
public final class RequestReplies {

    public static final String API_VERSION = "eventing.knative.dev/v1alpha1";
    public static final String KIND = "RequestReply";

    /** {@code spec.correlationAttribute} when not set. */
    public static final String DEFAULT_CORRELATION_ATTRIBUTE = "correlationid";
    /** {@code spec.replyAttribute} when not set. */
    public static final String DEFAULT_REPLY_ATTRIBUTE = "replyid";
    /** {@code spec.timeout} when not set: {@code requestreply-default-timeout} of config-features, PT30S unless changed. */
    public static final String DEFAULT_TIMEOUT = "PT30S";

    /** How long the data plane holds a request for its reply (hard-coded in ingress_handler.go). */
    public static final Duration DATA_PLANE_WAIT = Duration.ofMinutes(1);

    /** The data plane's Service: {@code request-reply} in {@code knative-eventing}. */
    public static final String DATA_PLANE_HOST = "request-reply.knative-eventing.svc.cluster.local";

    /** CloudEvents attributes neither {@code correlationAttribute} nor {@code replyAttribute} may name. */
    public static final Set<String> CORE_ATTRIBUTES = Set.of("id", "source", "specversion", "type");

    /** CloudEvents 1.0: attribute names consist of lower-case ASCII letters and digits. */
    private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[a-z0-9]+");

    private static final Set<String> BACKOFF_POLICIES = Set.of("linear", "exponential");

    private static final String NUMBER = "(\\d+(?:[.,]\\d+)?)";
    /** ISO-8601 period as Knative parses it: [-]P[nY][nM][nW][nD][T[nH][nM][nS]]. */
    private static final Pattern PERIOD = Pattern.compile("([-+]?)P(?:" + NUMBER + "Y)?(?:" + NUMBER + "M)?(?:"
            + NUMBER + "W)?(?:" + NUMBER + "D)?(?:T(?:" + NUMBER + "H)?(?:" + NUMBER + "M)?(?:" + NUMBER + "S)?)?");

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private RequestReplies() {
    }

    /**
     * Parses one YAML or JSON document into a RequestReply. Fails when the document is another kind, or when the
     * model keeps a field of it in {@code additionalProperties} (a misspelled name, a field of another API version);
     * the message names every such field by its path, e.g. {@code spec.replyAtribute}.
     */
    public static RequestReply parse(String document) {
        Object parsed;
        try {
            parsed = SERIALIZATION.unmarshal(document);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a Kubernetes resource: " + e.getMessage(), e);
        }
        if (!(parsed instanceof RequestReply rr)) {
            throw new IllegalArgumentException("expected apiVersion " + API_VERSION + " kind " + KIND + ", found "
                    + (parsed == null ? "nothing" : parsed.getClass().getName()));
        }
        List<String> unknown = unknownFields(rr);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(KIND + " " + name(rr) + ": unknown field(s) " + unknown
                    + " (misspelled, or not part of " + API_VERSION + ")");
        }
        return rr;
    }

    /** Paths of the fields the model did not recognise. */
    public static List<String> unknownFields(RequestReply rr) {
        List<String> out = new ArrayList<>();
        unknown("", rr.getAdditionalProperties(), out);
        if (rr.getMetadata() != null) {
            unknown("metadata", rr.getMetadata().getAdditionalProperties(), out);
        }
        RequestReplySpec spec = rr.getSpec();
        if (spec != null) {
            unknown("spec", spec.getAdditionalProperties(), out);
            if (spec.getBrokerRef() != null) {
                unknown("spec.brokerRef", spec.getBrokerRef().getAdditionalProperties(), out);
            }
            DeliverySpec d = spec.getDelivery();
            if (d != null) {
                unknown("spec.delivery", d.getAdditionalProperties(), out);
                Destination dls = d.getDeadLetterSink();
                if (dls != null) {
                    unknown("spec.delivery.deadLetterSink", dls.getAdditionalProperties(), out);
                    if (dls.getRef() != null) {
                        unknown("spec.delivery.deadLetterSink.ref", dls.getRef().getAdditionalProperties(), out);
                    }
                }
            }
        }
        return out;
    }

    private static void unknown(String path, Map<String, Object> extra, List<String> out) {
        if (extra != null) {
            extra.keySet().forEach(k -> out.add(path.isEmpty() ? k : path + "." + k));
        }
    }

    /** {@code spec.correlationAttribute}, or its default. */
    public static String correlationAttribute(RequestReply rr) {
        String a = rr.getSpec() == null ? null : rr.getSpec().getCorrelationAttribute();
        return a == null || a.isEmpty() ? DEFAULT_CORRELATION_ATTRIBUTE : a;
    }

    /** {@code spec.replyAttribute}, or its default. */
    public static String replyAttribute(RequestReply rr) {
        String a = rr.getSpec() == null ? null : rr.getSpec().getReplyAttribute();
        return a == null || a.isEmpty() ? DEFAULT_REPLY_ATTRIBUTE : a;
    }

    /** {@code spec.timeout}, or its default, as a duration; fails when it is not an ISO-8601 period. */
    public static Duration timeout(RequestReply rr) {
        String t = rr.getSpec() == null ? null : rr.getSpec().getTimeout();
        String value = t == null || t.isEmpty() ? DEFAULT_TIMEOUT : t;
        Duration d = period(value);
        if (d == null) {
            throw new IllegalArgumentException(KIND + " " + name(rr) + ": spec.timeout '" + value
                    + "' is not an ISO-8601 period such as PT1M");
        }
        return d;
    }

    /** The path the data plane serves this RequestReply on: {@code /<namespace>/<name>}. */
    public static String path(RequestReply rr) {
        String ns = rr.getMetadata() == null ? null : rr.getMetadata().getNamespace();
        if (ns == null || ns.isEmpty() || name(rr).isEmpty()) {
            throw new IllegalArgumentException(KIND + " " + name(rr)
                    + ": metadata.namespace and metadata.name are needed for its address (/<namespace>/<name>)");
        }
        return "/" + ns + "/" + name(rr);
    }

    /** The in-cluster address callers POST their request events to. */
    public static URI address(RequestReply rr) {
        return URI.create("http://" + DATA_PLANE_HOST + path(rr));
    }

    /**
     * What Knative's webhook rejects (defaults applied first, as the webhook does), plus the CloudEvents naming
     * rule for the two attributes and that they differ. Each problem starts with the field's path. Empty when
     * the resource would be accepted.
     */
    public static List<String> validate(RequestReply rr) {
        List<String> out = new ArrayList<>();
        if (rr.getMetadata() == null || name(rr).isEmpty()) {
            out.add("metadata.name: missing");
        }
        RequestReplySpec spec = rr.getSpec();
        if (spec == null) {
            out.add("spec: missing (spec.brokerRef is required)");
            return out;
        }
        KReference ref = spec.getBrokerRef();
        if (ref == null) {
            out.add("spec.brokerRef: missing (a reference to the Broker the requests are sent to)");
        } else {
            if (blank(ref.getName())) out.add("spec.brokerRef.name: missing");
            if (blank(ref.getApiVersion())) out.add("spec.brokerRef.apiVersion: missing");
            if (!"broker".equalsIgnoreCase(ref.getKind())) {
                out.add("spec.brokerRef.kind: must be Broker, found " + ref.getKind());
            }
            if (!blank(ref.getNamespace())) {
                out.add("spec.brokerRef.namespace: not allowed (the Broker is in the RequestReply's namespace), found "
                        + ref.getNamespace());
            }
        }
        String timeout = blank(spec.getTimeout()) ? DEFAULT_TIMEOUT : spec.getTimeout();
        Duration t = period(timeout);
        if (t == null) {
            out.add("spec.timeout: expected an ISO-8601 period such as PT1M, found '" + timeout + "'");
        } else if (t.isNegative() || t.isZero()) {
            out.add("spec.timeout: must be a positive duration, found " + timeout);
        }
        String correlation = correlationAttribute(rr);
        String reply = replyAttribute(rr);
        checkAttribute("spec.correlationAttribute", correlation, out);
        checkAttribute("spec.replyAttribute", reply, out);
        if (correlation.equals(reply)) {
            out.add("spec.replyAttribute: must differ from spec.correlationAttribute (" + correlation
                    + "): a request would carry its own reply id and match its own reply Trigger");
        }
        if (spec.getSecrets() != null && !spec.getSecrets().isEmpty()) {
            out.add("spec.secrets: not a field of " + KIND + " since Knative Eventing 1.20 (the data plane manages its"
                    + " own keys); the API server drops it");
        }
        if (spec.getDelivery() != null) {
            validateDelivery(spec.getDelivery(), out);
        }
        return out;
    }

    private static void checkAttribute(String field, String name, List<String> out) {
        // Knative's webhook compares with "course" where it means "source"; the documented rule is the four core
        // attributes, checked here.
        if (CORE_ATTRIBUTES.contains(name)) {
            out.add(field + ": cannot be a core CloudEvents attribute " + CORE_ATTRIBUTES + ", found " + name);
        } else if (!ATTRIBUTE_NAME.matcher(name).matches()) {
            out.add(field + ": a CloudEvents attribute name consists of lower-case letters and digits only, found '"
                    + name + "'");
        }
    }

    private static void validateDelivery(DeliverySpec d, List<String> out) {
        if (d.getRetry() != null && d.getRetry() < 0) {
            out.add("spec.delivery.retry: must be >= 0, found " + d.getRetry());
        }
        if (d.getBackoffPolicy() != null && !BACKOFF_POLICIES.contains(d.getBackoffPolicy())) {
            out.add("spec.delivery.backoffPolicy: expected linear or exponential, found " + d.getBackoffPolicy());
        }
        if (d.getBackoffDelay() != null && period(d.getBackoffDelay()) == null) {
            out.add("spec.delivery.backoffDelay: expected an ISO-8601 period, found '" + d.getBackoffDelay() + "'");
        }
        if (d.getTimeout() != null) {
            Duration t = period(d.getTimeout());
            if (t == null || t.isNegative() || t.isZero()) {
                out.add("spec.delivery.timeout: expected a positive ISO-8601 period, found '" + d.getTimeout() + "'");
            }
        }
        Destination dls = d.getDeadLetterSink();
        if (dls != null && dls.getRef() == null && blank(dls.getUri())) {
            out.add("spec.delivery.deadLetterSink: expected ref or uri");
        }
    }

    /**
     * An ISO-8601 period ({@code PT1M}, {@code P1DT2H}, {@code PT0.5S}, {@code -PT1S}) as a duration, or null when
     * the text is not one. Years and months count as their average length (365.2425 and 30.436875 days), as
     * the period library Knative uses approximates them.
     */
    public static Duration period(String iso) {
        if (iso == null) return null;
        Matcher m = PERIOD.matcher(iso.trim());
        if (!m.matches() || iso.trim().endsWith("T") || m.group(0).replaceFirst("^[-+]?P", "").isEmpty()) {
            return null;
        }
        BigDecimal day = BigDecimal.valueOf(86_400);
        BigDecimal[] unitSeconds = {
                day.multiply(new BigDecimal("365.2425")), day.multiply(new BigDecimal("30.436875")),
                day.multiply(BigDecimal.valueOf(7)), day, BigDecimal.valueOf(3600), BigDecimal.valueOf(60), BigDecimal.ONE};
        BigDecimal seconds = BigDecimal.ZERO;
        for (int i = 0; i < unitSeconds.length; i++) {
            String n = m.group(i + 2);
            if (n != null) {
                seconds = seconds.add(new BigDecimal(n.replace(',', '.')).multiply(unitSeconds[i]));
            }
        }
        long nanos = seconds.movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValueExact();
        Duration d = Duration.ofNanos(nanos);
        return "-".equals(m.group(1)) ? d.negated() : d;
    }

    private static String name(RequestReply rr) {
        return rr.getMetadata() == null || rr.getMetadata().getName() == null ? "" : rr.getMetadata().getName();
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
