package io.qwenaudio.serving;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * Makes Jackson's limits agree with the body limit: the longest JSON string (a base64 {@code audio} or {@code npy}
 * field) is as long as the longest body ({@code qwen-audio.http.max-body-size}), so a body the server accepts is
 * never refused as "not valid JSON" for Jackson's default of 20 M characters. Set at start (the limit is runtime
 * configuration) on the factory of the mapper Funqy, REST and the OpenAI API read bodies with; parsers made from then
 * on use it.
 */
@ApplicationScoped
public class JsonLimits {

    @Inject
    ServingSetup setup;

    @Inject
    ObjectMapper mapper;

    void apply(@Observes @Priority(1) StartupEvent e) {
        long body = setup.maxBodyBytes();
        int chars = (int) Math.min(Integer.MAX_VALUE - 1024, Math.max(body, StreamReadConstraints.DEFAULT_MAX_STRING_LEN));
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxStringLength(chars).build());
    }
}
