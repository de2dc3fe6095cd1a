package io.jnic.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retiring a segment (the rollback of a failed hotplug) and detaching it in the other views of the group. */
class RetireSegmentTest {
    private static final long MB = 1L << 20;

    @TempDir
    Path runtimeDir;

    private static List<Integer> ids(MemoryGroup g) {
        return g.segments().stream().map(DmaSegment::id).toList();
    }

    @Test
    void aRetiredSegmentIsUnmappedUnlinkedSkippedAndNeverMappedAgain() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).size(MB).build();
        try (MemoryGroup primary = MemoryGroup.create(cfg)) {
            primary.reserve("zone0", 4096);
            DmaSegment added = primary.addSegment(MB);
            Path file = added.path().orElseThrow();
            java.lang.foreign.MemorySegment stale = added.memory();
            try (MemoryGroup other = MemoryGroup.attach(cfg)) {
                assertEquals(List.of(0, 1), ids(other), "the other process mapped the new segment");

                primary.retireSegment(1);
                assertEquals(SegmentState.RETIRED, primary.segmentState(1));
                assertEquals(SegmentState.RETIRED, other.segmentState(1), "the state is in the shared table");
                assertEquals(SegmentState.LIVE, primary.segmentState(0));
                assertFalse(Files.exists(file), "its file is unlinked");
                assertEquals(List.of(0), ids(primary), "unmapped in the retiring process");
                assertEquals(2, primary.segmentCount(), "the table entry stays, retired");
                assertThrows(IllegalStateException.class, () -> stale.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0),
                        "a stale view throws instead of touching unmapped memory");

                assertTrue(other.detachSegment(1), "the other process had it mapped");
                assertEquals(List.of(0), ids(other));
                assertFalse(other.detachSegment(1), "nothing left to detach");
                MemoryException e = assertThrows(MemoryException.class, () -> other.attachSegment(1));
                assertEquals(MemoryException.Reason.RETIRED, e.reason());
                assertEquals("segment 1 of group '" + cfg.filePrefix() + "' is retired (a memory hotplug that not"
                        + " every process could follow was rolled back): it cannot be mapped; use another segment",
                        e.getMessage());
                assertEquals(MemoryException.Reason.RETIRED,
                        assertThrows(MemoryException.class, () -> other.segment(1)).reason());
            }
            // a process attaching later skips it
            try (MemoryGroup late = MemoryGroup.attach(cfg)) {
                assertEquals(List.of(0), ids(late));
            }
            // a reservation that only the retired segment could have held does not land there
            MemoryException full = assertThrows(MemoryException.class, () -> primary.reserve("big", MB - 2048));
            assertEquals(MemoryException.Reason.OUT_OF_MEMORY, full.reason());
            // ids are not reused
            assertEquals(2, primary.addSegment(MB).id());
            assertEquals(2, primary.reserve("big", MB - 2048).segmentId());
        }
        assertFalse(Files.exists(cfg.headerPath()), "close removes the group with its retired entry");
    }

    @Test
    void retireRefusesASegmentInUseAnUnknownIdAndARetiredOne() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).size(MB).build();
        String p = cfg.filePrefix();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            g.reserve("zone0", 4096);
            g.reserve("zone1", 4096);
            g.addSegment(MB);

            MemoryException inUse = assertThrows(MemoryException.class, () -> g.retireSegment(0));
            assertEquals(MemoryException.Reason.IN_USE, inUse.reason());
            assertEquals("segment 0 of group '" + p + "' cannot be retired: memzone(s) 'zone0', 'zone1' live in it"
                    + " (memzones are never freed, so only a segment nobody reserved from can be retired)",
                    inUse.getMessage());
            assertEquals(List.of(0, 1), ids(g), "nothing changed");
            assertEquals(SegmentState.LIVE, g.segmentState(0));

            MemoryException unknown = assertThrows(MemoryException.class, () -> g.retireSegment(7));
            assertEquals(MemoryException.Reason.NOT_FOUND, unknown.reason());
            assertEquals("segment id 7 is out of range: group '" + p + "' has 2 segment(s) (ids 0..1)",
                    unknown.getMessage());
            assertEquals("segment id -1 is out of range: group '" + p + "' has 2 segment(s) (ids 0..1)",
                    assertThrows(MemoryException.class, () -> g.retireSegment(-1)).getMessage());

            g.retireSegment(1);
            MemoryException again = assertThrows(MemoryException.class, () -> g.retireSegment(1));
            assertEquals(MemoryException.Reason.RETIRED, again.reason());
            assertEquals("segment 1 of group '" + p + "' is already retired: nothing to do", again.getMessage());

            MemoryException live = assertThrows(MemoryException.class, () -> g.detachSegment(0));
            assertEquals(MemoryException.Reason.IN_USE, live.reason());
            assertEquals("segment 0 of group '" + p + "' is live: only a retired segment can be detached (live"
                    + " segments stay mapped until the group is closed)", live.getMessage());
            assertEquals("zone0", g.lookup("zone0").name(), "the group still works");
        }
    }

    @Test
    void aPendingSegmentIsMappableButNotReservedFromUntilCommitted() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).size(MB).build();
        String p = cfg.filePrefix();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            g.reserve("zone0", 4096);
            DmaSegment pending = g.addPendingSegment(MB);
            assertEquals(SegmentState.PENDING, g.segmentState(pending.id()));
            try (MemoryGroup other = MemoryGroup.attach(cfg)) {
                assertEquals(List.of(0, 1), ids(other), "others map a pending segment (the hotplug needs that)");
                MemoryException full = assertThrows(MemoryException.class, () -> other.reserve("big", MB - 2048));
                assertEquals(MemoryException.Reason.OUT_OF_MEMORY, full.reason(), "no memzone lands in it");

                g.commitSegment(1);
                assertEquals(SegmentState.LIVE, other.segmentState(1));
                assertEquals(1, other.reserve("big", MB - 2048).segmentId());
                IllegalStateException twice = assertThrows(IllegalStateException.class, () -> g.commitSegment(1));
                assertEquals("segment 1 of group '" + p + "' is live already: only a segment added with"
                        + " addPendingSegment is committed", twice.getMessage());
            }
            // a pending segment can be retired; a retired one cannot be committed
            g.addPendingSegment(MB);
            g.retireSegment(2);
            MemoryException retired = assertThrows(MemoryException.class, () -> g.commitSegment(2));
            assertEquals(MemoryException.Reason.RETIRED, retired.reason());
            assertEquals(MemoryException.Reason.NOT_FOUND,
                    assertThrows(MemoryException.class, () -> g.commitSegment(3)).reason());
        }
    }

    @Test
    void memfdSegmentsRetireToo() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).backing(Backing.MEMFD).size(MB).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            g.addSegment(MB);
            g.retireSegment(1);
            assertEquals(List.of(0), ids(g));
            assertEquals(SegmentState.RETIRED, g.segmentState(1));
            assertEquals(MemoryException.Reason.RETIRED,
                    assertThrows(MemoryException.class, () -> g.attachSegment(1, io.jnic.sys.Mman.memfdCreate("x", 0))).reason());
        }
    }
}
