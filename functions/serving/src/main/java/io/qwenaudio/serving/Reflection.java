package io.qwenaudio.serving;

import io.qwenaudio.events.TensorPayload;
import io.qwenaudio.events.Wire;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Registers for reflection every type Jackson and Funqy serialise, so a native image (no runtime reflection
 * discovery) reads and writes the same JSON as the JVM build.
 */
@RegisterForReflection(targets = {
        Wire.EncodeRequest.class, Wire.EncodedAudio.class, Wire.AdapterStats.class, Wire.Timings.class,
        Wire.GenerateParams.class, Wire.EmbedRequest.class, Wire.EmbedResponse.class, Wire.TextGenerated.class,
        Wire.Usage.class, Wire.Failure.class, Wire.HiddenStates.class, TensorPayload.class})
public final class Reflection {
    private Reflection() {
    }
}
