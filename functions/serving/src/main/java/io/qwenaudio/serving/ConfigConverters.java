package io.qwenaudio.serving;

import io.qwenaudio.runtime.ExecutionProvider;
import org.eclipse.microprofile.config.spi.Converter;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Converters of the enum-typed keys of {@link ServingConfig}: a bad value stops the start with a message that
 * names the key and the accepted values (lower-case, as they are written in configuration).
 */
final class ConfigConverters {

    private ConfigConverters() {
    }

    /** {@code value} as a constant of {@code type}, case-insensitive; otherwise names {@code key} and the accepted values. */
    static <E extends Enum<E>> E parse(Class<E> type, String key, String value) {
        String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(v)) return e;
        }
        throw new IllegalArgumentException(key + ": '" + value + "' is not supported; accepted: "
                + Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                        .collect(Collectors.joining(", ")));
    }

    /** {@code qwen-audio.runtime.execution-provider}. */
    public static final class ExecutionProviderConverter implements Converter<ExecutionProvider> {
        @Override
        public ExecutionProvider convert(String value) {
            return ExecutionProvider.parse(value);
        }
    }

    /** {@code qwen-audio.payload.blob-store}. */
    public static final class BlobStoreConverter implements Converter<ServingConfig.BlobStoreKind> {
        @Override
        public ServingConfig.BlobStoreKind convert(String value) {
            return parse(ServingConfig.BlobStoreKind.class, ServingSetup.P + "payload.blob-store", value);
        }
    }

    /** {@code qwen-audio.mode}. */
    public static final class ModeConverter implements Converter<ServingConfig.Mode> {
        @Override
        public ServingConfig.Mode convert(String value) {
            return parse(ServingConfig.Mode.class, ServingSetup.P + "mode", value);
        }
    }
}
