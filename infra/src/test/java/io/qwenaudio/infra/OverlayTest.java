package io.qwenaudio.infra;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the overlays add to base: the gpu overlay gives every GPU stage one nvidia.com/gpu and the CUDA provider,
 * the cpu and dev overlays the CPU provider and no GPU; each stage has requests, limits, concurrency and a timeout;
 * memory is sized from the model figures (fp32 encoder 2.5 GB, fp16 decoder ~16 GB, KV cache 0.5 MiB per token).
 */
class OverlayTest {

    static final String GPU = "nvidia.com/gpu";
    static final String PROVIDER = FunctionApp.envName("qwen-audio.runtime.execution-provider");
    static final String FALLBACK = FunctionApp.envName("qwen-audio.runtime.fallback-to-cpu");
    static final String THREADS = FunctionApp.envName("qwen-audio.runtime.intra-op-threads");
    static final String TARGET = "autoscaling.knative.dev/target";
    static final long GIB = 1L << 30;
    /** Tokens per sequence the KV cache is sized for: 756 audio + prompt positions and ~512 generated. */
    static final long TOKENS_PER_SEQUENCE = 2048;
    static final Pattern MAX_RAM_PERCENTAGE = Pattern.compile("-XX:MaxRAMPercentage=(\\d+(?:\\.\\d+)?)");

    @Test
    void gpuOverlayGivesEachGpuStageOneGpu() {
        Deployment d = Deployment.overlay("gpu");
        Problems problems = new Problems("gpu overlay");
        for (String app : Contract.GPU_STAGES) {
            var s = d.service(app).orElseThrow();
            String where = s.origin() + ": Service " + app + ": spec.template.spec.containers[0]";
            Container c = Deployment.container(s);
            BigDecimal limit = amount(c.getResources() == null ? null : c.getResources().getLimits(), GPU);
            BigDecimal request = amount(c.getResources() == null ? null : c.getResources().getRequests(), GPU);
            problems.check(limit != null && limit.compareTo(BigDecimal.ONE) == 0, where + ".resources.limits["
                    + GPU + "]: expected 1, found " + limit);
            problems.check(request == null || request.compareTo(BigDecimal.ONE) == 0, where + ".resources.requests["
                    + GPU + "]: expected 1 (or unset), found " + request);
            Map<String, String> env = Deployment.env(c);
            problems.check("cuda".equals(env.get(PROVIDER)), where + ".env[" + PROVIDER + "]: expected cuda, found "
                    + env.get(PROVIDER));
            problems.check("false".equals(env.get(FALLBACK)), where + ".env[" + FALLBACK + "]: expected \"false\""
                    + " (a GPU pod without a GPU must not serve a 7B model on CPU), found " + env.get(FALLBACK));
        }
        problems.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "dev"})
    void cpuOverlaysUseTheCpuProviderAndNoGpu(String overlay) {
        Deployment d = Deployment.overlay(overlay);
        Problems problems = new Problems(overlay + " overlay");
        for (var s : d.services.values()) {
            Container c = Deployment.container(s);
            String where = s.origin() + ": Service " + s.resource().getMetadata().getName() + ": spec.template.spec.containers[0]";
            var res = c.getResources();
            problems.check(res == null || (amount(res.getLimits(), GPU) == null && amount(res.getRequests(), GPU) == null),
                    where + ".resources: " + GPU + " requested in a CPU overlay");
            if (Contract.APPS.contains(s.resource().getMetadata().getName())) {
                String provider = Deployment.env(c).get(PROVIDER);
                problems.check("cpu".equals(provider), where + ".env[" + PROVIDER + "]: expected cpu, found " + provider);
            }
        }
        problems.assertNone();
    }

    @Test
    void baseLeavesProviderAndResourcesToTheOverlays() {
        Deployment d = Deployment.base();
        Problems problems = new Problems("base");
        for (String app : Contract.APPS) {
            var s = d.service(app).orElseThrow();
            Container c = Deployment.container(s);
            problems.check(!Deployment.env(c).containsKey(PROVIDER), s.origin() + ": env[" + PROVIDER
                    + "] belongs in overlays/cpu and overlays/gpu");
            problems.check(c.getResources() == null, s.origin() + ": resources belong in overlays/cpu and overlays/gpu");
        }
        problems.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu", "dev"})
    void everyStageHasResourcesConcurrencyAndTimeout(String overlay) {
        Deployment d = Deployment.overlay(overlay);
        Problems problems = new Problems(overlay + " overlay");
        for (String app : Contract.APPS) {
            var s = d.service(app).orElseThrow();
            var spec = s.resource().getSpec().getTemplate().getSpec();
            String where = s.origin() + ": Service " + app + ": spec.template";
            Container c = Deployment.container(s);
            var res = c.getResources();
            BigDecimal cpu = res == null ? null : amount(res.getRequests(), "cpu");
            BigDecimal memRequest = res == null ? null : amount(res.getRequests(), "memory");
            BigDecimal memLimit = res == null ? null : amount(res.getLimits(), "memory");
            problems.check(cpu != null && cpu.signum() > 0, where + ".spec.containers[0].resources.requests.cpu: not set");
            problems.check(memRequest != null && memLimit != null && memLimit.compareTo(memRequest) >= 0,
                    where + ".spec.containers[0].resources: expected requests.memory <= limits.memory, found "
                            + memRequest + " / " + memLimit);
            Long cc = spec.getContainerConcurrency();
            problems.check(cc != null && cc > 0, where + ".spec.containerConcurrency: expected > 0, found " + cc);
            String target = Deployment.templateAnnotations(s).get(TARGET);
            problems.check(target != null && cc != null && Long.parseLong(target) <= cc, where + ".metadata.annotations["
                    + TARGET + "]: expected a target concurrency <= containerConcurrency " + cc + ", found " + target);
            Long timeout = spec.getTimeoutSeconds();
            problems.check(timeout != null && timeout > 0 && timeout <= 600, where + ".spec.timeoutSeconds: expected"
                    + " 1..600 (Knative's default max-revision-timeout-seconds), found " + timeout);
            String threads = Deployment.env(c).get(THREADS);
            problems.check(threads != null && cpu != null && new BigDecimal(threads).compareTo(cpu.setScale(0,
                    RoundingMode.CEILING)) <= 0, where + ".spec.containers[0].env[" + THREADS
                    + "]: expected at most the CPU request " + cpu + " (more threads than cores slows ONNX Runtime), found "
                    + threads);
        }
        problems.assertNone();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu", "dev"})
    void memoryHoldsTheWeightsAndTheHeap(String overlay) {
        Deployment d = Deployment.overlay(overlay);
        boolean gpu = overlay.equals("gpu");
        Problems problems = new Problems(overlay + " overlay memory");
        // resident in host memory: on CPU the weights; on GPU the initializers staged while the CUDA session is built
        Map<String, Long> weights = Map.of("encode-function", Contract.ENCODER_FP32_BYTES,
                "generate-function", Contract.DECODER_FP16_BYTES);
        for (var e : weights.entrySet()) {
            var s = d.service(e.getKey()).orElseThrow();
            Container c = Deployment.container(s);
            String where = s.origin() + ": Service " + e.getKey() + ": spec.template.spec.containers[0]";
            BigDecimal request = amount(c.getResources() == null ? null : c.getResources().getRequests(), "memory");
            BigDecimal limit = amount(c.getResources() == null ? null : c.getResources().getLimits(), "memory");
            Long cc = s.resource().getSpec().getTemplate().getSpec().getContainerConcurrency();
            long kv = e.getKey().equals("generate-function") && !gpu && cc != null
                    ? cc * TOKENS_PER_SEQUENCE * Contract.KV_BYTES_PER_TOKEN : 0;
            long needed = e.getValue() + kv + GIB;
            problems.check(request != null && request.longValue() >= needed, where + ".resources.requests.memory: expected"
                    + " >= " + gib(needed) + " (weights " + gib(e.getValue()) + (kv > 0 ? " + KV cache " + gib(kv) : "")
                    + " + 1 GiB), found " + (request == null ? null : gib(request.longValue())));
            Matcher m = MAX_RAM_PERCENTAGE.matcher(Deployment.env(c).getOrDefault("JAVA_OPTS_APPEND", ""));
            if (!m.find()) {
                problems.add(where + ".env[JAVA_OPTS_APPEND]: expected -XX:MaxRAMPercentage=<n> (the weights live"
                        + " outside the Java heap, so the heap must leave them room)");
            } else if (limit != null) {
                long heap = (long) (limit.doubleValue() * Double.parseDouble(m.group(1)) / 100);
                problems.check(heap + e.getValue() + kv <= limit.longValue(), where + ": heap " + gib(heap)
                        + " (MaxRAMPercentage " + m.group(1) + " of " + gib(limit.longValue()) + ") + weights "
                        + gib(e.getValue()) + " exceed resources.limits.memory");
                problems.check(heap >= GIB, where + ": heap " + gib(heap) + " below 1 GiB (request payloads live there)");
            }
        }
        problems.assertNone();
    }

    private static BigDecimal amount(Map<String, Quantity> quantities, String name) {
        if (quantities == null || !quantities.containsKey(name)) {
            return null;
        }
        return Quantity.getAmountInBytes(quantities.get(name));
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) GIB);
    }
}
