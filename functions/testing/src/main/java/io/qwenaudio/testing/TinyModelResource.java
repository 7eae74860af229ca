package io.qwenaudio.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * Points a {@code @QuarkusTest} app at the {@link TinyModel} artifacts, with the two adapters configured as
 * environments {@code ldv} and {@code piezo}.
 */
public class TinyModelResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        TinyModel m = TinyModel.get();
        return Map.of(
                "qwen-audio.artifacts-dir", m.artifacts.toString(),
                "qwen-audio.adapt.environments." + TinyModel.LDV, "adapters/" + TinyModel.LDV,
                "qwen-audio.adapt.environments." + TinyModel.PIEZO, "adapters/" + TinyModel.PIEZO);
    }

    @Override
    public void stop() {
    }
}
