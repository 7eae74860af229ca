package io.qwenaudio.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBudgetTest {

    @Test
    void refusesWhatDoesNotFitAndNamesTheKey() {
        MemoryBudget b = new MemoryBudget(100, "qwen-audio.memory.max-in-flight");
        MemoryBudget.Reservation r = b.reserve(60, "a clip");
        OverloadedException e = assertThrows(OverloadedException.class, () -> b.reserve(50, "another clip"));
        assertTrue(e.getMessage().contains("qwen-audio.memory.max-in-flight"), e.getMessage());
        assertTrue(e.retryAfterSeconds() >= 1);
        assertEquals(60, b.inUse());
        r.close();
        r.close(); // idempotent
        assertEquals(0, b.inUse());
        try (MemoryBudget.Reservation s = b.reserve(50, "another clip")) {
            assertEquals(50, b.inUse());
        }
        assertEquals(1, b.refused());
        assertEquals(60, b.peak());
    }

    @Test
    void aRequestLargerThanTheBudgetRunsAloneButNotBesideOthers() {
        MemoryBudget b = new MemoryBudget(100, "k");
        try (MemoryBudget.Reservation big = b.reserve(500, "a long clip")) {
            assertEquals(500, b.inUse());
            assertThrows(OverloadedException.class, () -> b.reserve(1, "anything"));
        }
        try (MemoryBudget.Reservation small = b.reserve(10, "small")) {
            assertThrows(OverloadedException.class, () -> b.reserve(500, "a long clip"));
        }
    }
}
