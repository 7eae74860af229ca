package io.qwenaudio.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checking machinery catches the mistakes it is there for, on small manifests written here. */
class CheckerSelfTest {

    static final String SERVICE = """
            apiVersion: serving.knative.dev/v1
            kind: Service
            metadata:
              name: encode-function
            spec:
              template:
                spec:
                  containerConcurrency: %s
                  containers:
                    - image: example/encode
                      %s:
                        httpGet:
                          path: /q/health/ready
            """;

    @Test
    void unknownFieldsAndWrongTypesAreReported(@TempDir Path dir) throws IOException {
        Path good = write(dir.resolve("good.yaml"), SERVICE.formatted("4", "readinessProbe"));
        Path typo = write(dir.resolve("typo.yaml"), SERVICE.formatted("4", "readinesProbe"));
        Path wrongType = write(dir.resolve("type.yaml"), SERVICE.formatted("lots", "readinessProbe"));
        Manifest ok = Manifest.readResources(good).get(0);
        assertEquals(List.of(), KubeModel.unknownFields(KubeModel.typed(ok), Set.of()));
        List<String> found = KubeModel.unknownFields(KubeModel.typed(Manifest.readResources(typo).get(0)), Set.of());
        assertEquals(List.of("spec.template.spec.containers[0].readinesProbe"), found);
        AssertionError e = assertThrows(AssertionError.class,
                () -> KubeModel.typed(Manifest.readResources(wrongType).get(0)));
        assertTrue(e.getMessage().contains("type.yaml#1"), e.getMessage());
    }

    @Test
    void unknownKindIsRejectedNamingTheFile(@TempDir Path dir) throws IOException {
        Path f = write(dir.resolve("x.yaml"), "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n");
        AssertionError e = assertThrows(AssertionError.class, () -> KubeModel.typed(Manifest.readResources(f).get(0)));
        assertTrue(e.getMessage().contains("x.yaml#1") && e.getMessage().contains("Gadget"), e.getMessage());
    }

    @Test
    void danglingResourceAndPatchWithoutTargetFail(@TempDir Path dir) throws IOException {
        write(dir.resolve("svc.yaml"), SERVICE.formatted("4", "readinessProbe"));
        write(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - svc.yaml
                  - missing.yaml
                """);
        AssertionError missing = assertThrows(AssertionError.class, () -> Kustomization.load(dir).build());
        assertTrue(missing.getMessage().contains("resources[1] 'missing.yaml'"), missing.getMessage());

        write(dir.resolve("gpu.yaml"), """
                - op: add
                  path: /spec/template/spec/timeoutSeconds
                  value: 60
                """);
        write(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - svc.yaml
                patches:
                  - path: gpu.yaml
                    target:
                      kind: Service
                      name: generate-function
                """);
        AssertionError target = assertThrows(AssertionError.class, () -> Kustomization.load(dir).build());
        assertTrue(target.getMessage().contains("patches[0] 'gpu.yaml'") && target.getMessage().contains("selects 0"),
                target.getMessage());
    }

    @Test
    void jsonPatchAndStrategicMergeApply(@TempDir Path dir) throws IOException {
        write(dir.resolve("svc.yaml"), SERVICE.formatted("4", "readinessProbe"));
        write(dir.resolve("ops.yaml"), """
                - op: add
                  path: /spec/template/spec/timeoutSeconds
                  value: 60
                """);
        write(dir.resolve("merge.yaml"), """
                apiVersion: serving.knative.dev/v1
                kind: Service
                metadata:
                  name: encode-function
                  annotations:
                    a: b
                """);
        write(dir.resolve("kustomization.yaml"), """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: ns
                resources:
                  - svc.yaml
                patches:
                  - path: ops.yaml
                    target:
                      kind: Service
                      name: encode-function
                  - path: merge.yaml
                """);
        Manifest m = Kustomization.load(dir).build().get(0);
        assertEquals(60, m.tree().at("/spec/template/spec/timeoutSeconds").asInt());
        assertEquals("b", m.tree().at("/metadata/annotations/a").asText());
        assertEquals("ns", m.tree().at("/metadata/namespace").asText());
        assertEquals("example/encode", m.tree().at("/spec/template/spec/containers/0/image").asText());
    }

    @Test
    void environmentVariablesMapToKeys(@TempDir Path dir) throws IOException {
        Path props = write(dir.resolve("application.properties"), """
                #qwen-audio.artifacts-dir=/models/qwen2-audio
                qwen-audio.runtime.intra-op-threads=0
                %test.qwen-audio.payload.blob-store=memory
                qwen-audio.adapt.environments.ldv=adapters/ldv
                # Every qwen-audio.* key with its default; not a key = here
                quarkus.funqy.knative-events.mapping.adapt-event.trigger=io.qwenaudio.audio.encoded
                quarkus.funqy.knative-events.mapping.adapt-event.response-type=io.qwenaudio.audio.adapted
                """);
        FunctionApp app = FunctionApp.load("adapt-function", props);
        Set<String> prefixes = Contract.MAP_PREFIXES;
        assertEquals(Optional.of("qwen-audio.artifacts-dir"), app.keyForEnv("QWEN_AUDIO_ARTIFACTS_DIR", prefixes));
        assertEquals(Optional.of("qwen-audio.runtime.intra-op-threads"),
                app.keyForEnv("QWEN_AUDIO_RUNTIME_INTRA_OP_THREADS", prefixes));
        assertEquals(Optional.of("qwen-audio.payload.blob-store"), app.keyForEnv("QWEN_AUDIO_PAYLOAD_BLOB_STORE", prefixes));
        assertEquals(Optional.of("qwen-audio.adapt.environments.studio"),
                app.keyForEnv("QWEN_AUDIO_ADAPT_ENVIRONMENTS_STUDIO", prefixes));
        assertEquals(Optional.empty(), app.keyForEnv("QWEN_AUDIO_ARTIFACT_DIR", prefixes));
        assertEquals(Optional.empty(), app.keyForEnv("QWEN_AUDIO_ENCODE_MAX_BATCH", prefixes));
        assertEquals("io.qwenaudio.audio.adapted", app.mappings().get("adapt-event").responseType());
        assertEquals("/q/health/ready", app.readinessPath());

        Path noMap = write(dir.resolve("other.properties"), "qwen-audio.runtime.warmup=true\n");
        assertEquals(Optional.empty(), FunctionApp.load("generate-function", noMap)
                .keyForEnv("QWEN_AUDIO_ADAPT_ENVIRONMENTS_LDV", prefixes));
    }

    @Test
    void mergedConfigurationHasEveryKeyAndThePrimaryValues(@TempDir Path dir) throws IOException {
        Path stage = write(dir.resolve("stage.properties"), """
                quarkus.http.port=9000
                qwen-audio.payload.inline-limit=100M
                #qwen-audio.adapt.environments.ldv=adapters/ldv
                """);
        Path app = write(dir.resolve("app.properties"), """
                quarkus.http.port=8080
                qwen-audio.openai.model-name=qwen2-audio
                """);
        FunctionApp merged = FunctionApp.merged(FunctionApp.load("app", app), List.of(FunctionApp.load("adapt-function", stage)));
        assertEquals(8080, merged.httpPort());
        assertEquals(Optional.of("qwen-audio.payload.inline-limit"),
                merged.keyForEnv("QWEN_AUDIO_PAYLOAD_INLINE_LIMIT", Contract.MAP_PREFIXES));
        assertEquals(Optional.of("qwen-audio.openai.model-name"),
                merged.keyForEnv("QWEN_AUDIO_OPENAI_MODEL_NAME", Contract.MAP_PREFIXES));
        assertEquals(Optional.of("qwen-audio.adapt.environments.studio"),
                merged.keyForEnv("QWEN_AUDIO_ADAPT_ENVIRONMENTS_STUDIO", Contract.MAP_PREFIXES));
        assertEquals(Optional.empty(), merged.keyForEnv("QWEN_AUDIO_GATEWAY_TIMEOUT", Contract.MAP_PREFIXES));
    }

    @Test
    void healthPathsFollowTheAppsSettings(@TempDir Path dir) throws IOException {
        Path props = write(dir.resolve("application.properties"), """
                quarkus.http.non-application-root-path=internal
                quarkus.smallrye-health.liveness-path=alive
                quarkus.http.port=9000
                """);
        FunctionApp app = FunctionApp.load("encode-function", props);
        assertEquals("/internal/health/alive", app.livenessPath());
        assertEquals("/internal/health/ready", app.readinessPath());
        assertEquals(9000, app.httpPort());
    }

    private static Path write(Path file, String text) throws IOException {
        return Files.writeString(file, text);
    }
}
