package io.qwenaudio.serving;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the artifacts come from when {@code qwen-audio.artifacts-dir} is not set. A deployable that provides a
 * bean of this type (the embedded app: a tiny demo model made on first start) runs without configuration; the
 * stage functions provide none and refuse to start without the key.
 */
public interface ArtifactsFallback {

    /** The artifacts directory, created if needed. */
    Path artifactsDir();

    /** Recording environment -> adapter directory inside those artifacts. */
    Map<String, String> environments();
}
