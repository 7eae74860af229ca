package io.qwenaudio.serving;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.jackson.ObjectMapperCustomizer;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Makes Jackson's limits agree with the body limit: the longest JSON string (a base64 {@code audio} or {@code npy}
 * field) is as long as the longest body ({@code qwen-audio.http.max-body-size}), so a body the server accepts is
 * never refused as "not valid JSON" for Jackson's default of 20 M characters.
 *
 * <p>Set twice: here, when the application's mapper is made (static init, where Funqy copies it for its readers;
 * the value is read from the raw configuration because the typed mapping is not there yet), and by
 * {@link RequestGuard} at start with the runtime value, for the mapper REST and the OpenAI API use.
 */
@Singleton
public class JsonLimits implements ObjectMapperCustomizer {

    private static final String KEY = "qwen-audio.http.max-body-size";

    @Override
    public void customize(ObjectMapper m) {
        long body = ConfigProvider.getConfig().getOptionalValue(KEY, String.class)
                .map(v -> new MemorySizeConverter().convert(v)).map(MemorySize::asLongValue).orElse(200L << 20);
        StreamReadConstraints c = constraints(body);
        StreamReadConstraints.overrideDefaultStreamReadConstraints(c); // factories made from now on
        m.getFactory().setStreamReadConstraints(c);
    }

    static StreamReadConstraints constraints(long maxBodyBytes) {
        int chars = (int) Math.min(Integer.MAX_VALUE - 1024, Math.max(maxBodyBytes, StreamReadConstraints.DEFAULT_MAX_STRING_LEN));
        return StreamReadConstraints.builder().maxStringLength(chars).build();
    }
}
