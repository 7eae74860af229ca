package io.qwenaudio.testtools;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExternalToolTest {

    @Test
    void aMissingToolSkipsLocallyAndFailsInCi() {
        Class<? extends Throwable> expected = ExternalTool.inCi() ? AssertionFailedError.class : TestAbortedException.class;
        Throwable t = assertThrows(expected, () -> ExternalTool.KUBECTL.missing("'kubectl' cannot be run"));
        assertTrue(t.getMessage().contains("kubectl is needed: 'kubectl' cannot be run; install it with: "
                + "apt-get install -y kubectl"), t.getMessage());
        assertTrue(t.getMessage().contains(ExternalTool.inCi() ? "CI=true: a missing tool fails" : "skipped"), t.getMessage());
    }

    @Test
    void probeSaysWhatWentWrong() {
        String java = ProcessHandle.current().info().command().orElseThrow();
        assertEquals("", ExternalTool.probe(List.of(java, "-version")));
        assertTrue(ExternalTool.probe(List.of(java, "-no-such-option")).startsWith("'" + java + " -no-such-option' exited "));
        String m = ExternalTool.probe(List.of("qwen-audio-no-such-tool", "--version"));
        assertTrue(m.startsWith("'qwen-audio-no-such-tool' cannot be run ("), m);
    }
}
