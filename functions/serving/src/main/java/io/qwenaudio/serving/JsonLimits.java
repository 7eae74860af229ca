package io.qwenaudio.serving;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * Makes Jackson's limits agree with the body limit: the longest JSON string (a base64 {@code audio} or {@code npy}
 * field) is as long as the longest body ({@code qwen-audio.http.max-body-size}), so a body the server accepts is
 * never refused as "not valid JSON" for Jackson's default of 20 M characters. Applies to the mapper Funqy, REST and
 * the OpenAI API read bodies with.
 */
@Singleton
public class JsonLimits implements ObjectMapperCustomizer {

    @Inject
    ServingConfig config;

    @Override
    public void customize(ObjectMapper mapper) {
        long body = config.http().maxBodySize().asLongValue();
        int chars = (int) Math.min(Integer.MAX_VALUE - 1024, Math.max(body, StreamReadConstraints.DEFAULT_MAX_STRING_LEN));
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxStringLength(chars).build());
    }
}
