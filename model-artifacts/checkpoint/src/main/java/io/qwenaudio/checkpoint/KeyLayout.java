package io.qwenaudio.checkpoint;

import java.util.Collection;

/**
 * The two tensor-name layouts of Qwen2-Audio checkpoints and their mapping to the canonical (hub) names.
 *
 * <pre>
 * HUB (as published)                 TRANSFORMERS (saved by newer transformers)
 * audio_tower.*                      model.audio_tower.*
 * multi_modal_projector.*            model.multi_modal_projector.*
 * language_model.model.*             model.language_model.*
 * language_model.lm_head.weight      lm_head.weight
 * </pre>
 */
public enum KeyLayout {
    /** The layout of the published checkpoints; these are the canonical names. */
    HUB,
    /** The layout newer transformers versions save. */
    TRANSFORMERS;

    /** The canonical (hub) name of a stored key in either layout; unknown keys come back unchanged. */
    public static String canonical(String stored) {
        if (stored.startsWith("model.audio_tower.")) return stored.substring("model.".length());
        if (stored.startsWith("model.multi_modal_projector.")) return stored.substring("model.".length());
        if (stored.startsWith("model.language_model.")) {
            return "language_model.model." + stored.substring("model.language_model.".length());
        }
        if (stored.startsWith("lm_head.")) return "language_model." + stored;
        return stored;
    }

    /** The layout of one stored key. */
    public static KeyLayout of(String stored) {
        return stored.equals(canonical(stored)) ? HUB : TRANSFORMERS;
    }

    /** The layout most keys use (HUB when there are none). */
    public static KeyLayout detect(Collection<String> storedNames) {
        long newer = storedNames.stream().filter(k -> of(k) == TRANSFORMERS).count();
        return newer * 2 > storedNames.size() ? TRANSFORMERS : HUB;
    }

    /** The stored name of a canonical name in this layout. */
    public String stored(String canonical) {
        if (this == HUB) return canonical;
        if (canonical.startsWith("audio_tower.") || canonical.startsWith("multi_modal_projector.")) {
            return "model." + canonical;
        }
        if (canonical.startsWith("language_model.model.")) {
            return "model.language_model." + canonical.substring("language_model.model.".length());
        }
        if (canonical.startsWith("language_model.lm_head.")) return canonical.substring("language_model.".length());
        return canonical;
    }
}
