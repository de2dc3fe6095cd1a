package io.jnic.memory;

import static io.jnic.memory.TestSupport.MB2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Io;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryGroupTest {
    @TempDir
    Path runtimeDir;

    @Test
    void smallPageFileGroupIsFdBackedLockedZeroedAndRemovedOnClose() throws IOException {
        MemoryConfig cfg = TestSupport.small(runtimeDir).size(300_000).build();
        Path header = cfg.headerPath();
        Path file = runtimeDir.resolve(cfg.filePrefix() + "map_0");
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            assertTrue(Files.exists(header), "header file " + header);
            assertEquals(1, g.segmentCount());
            DmaSegment s = g.segment(0);
            assertEquals(0, s.id());
            assertEquals(303_104, s.size(), "rounded up to whole 4 KB pages");
            assertEquals(PageSize.SMALL_4K, s.pageSize());
            assertEquals(Backing.FILE, s.backing());
            assertEquals(file, s.path().orElseThrow());
            assertTrue(s.fd() >= 0);
            assertEquals(s.size(), Files.size(file));
            assertEquals(s.size(), MemoryGroup.fdSize(s.fd()));
            assertEquals(s.size() / 1024, TestSupport.smapsField(s.memory().address(), "Locked"), "all of it mlocked");
            assertEquals(-1, s.memory().mismatch(MemorySegment.ofArray(new byte[(int) s.size()])), "zeroed");
        }
        assertFalse(Files.exists(header), "the last process removes the header");
        assertFalse(Files.exists(file), "and the segment files");
    }

    @Test
    void hugetlbfsGroupUsesHugepageFilesNamedAfterThePrefix() throws IOException {
        MemoryConfig cfg = TestSupport.huge(runtimeDir, 2).build();
        Path file = Path.of("/dev/hugepages", cfg.filePrefix() + "map_0");
        long before = Hugepages.available(PageSize.HUGE_2M);
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            DmaSegment s = g.segment(0);
            assertEquals(2 * MB2, s.size());
            assertEquals(PageSize.HUGE_2M, s.pageSize());
            assertEquals(file, s.path().orElseThrow());
            assertEquals(2048, TestSupport.smapsField(s.memory().address(), "KernelPageSize"));
            assertTrue(Hugepages.available(PageSize.HUGE_2M) <= before - 2, "two hugepages taken");
            assertEquals(-1, s.memory().mismatch(MemorySegment.ofArray(new byte[(int) s.size()])), "zeroed");
            Memzone z = g.reserve("ring0", 1 << 16, 4096);
            assertEquals(0, z.memory().address() % 4096);
        }
        assertFalse(Files.exists(file));
    }

    @Test
    void memfdHugetlbGroupHasNoFilesButDescriptors() throws IOException {
        TestSupport.assumeHugepages(2);
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(runtimeDir)
                .backing(Backing.MEMFD).pageSize(PageSize.HUGE_2M).size(MB2).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            DmaSegment s = g.segment(0);
            assertTrue(s.path().isEmpty());
            assertEquals(MB2, MemoryGroup.fdSize(s.fd()));
            assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + s.fd())).toString()
                    .contains("memfd:" + cfg.filePrefix() + "map_0"));
            assertEquals(2048, TestSupport.smapsField(s.memory().address(), "KernelPageSize"));
            assertTrue(g.headerPath().isEmpty());
            try (var files = Files.list(runtimeDir)) {
                assertEquals(0, files.count(), "a MEMFD group leaves no files");
            }
        }
    }

    @Test
    void oneGigabyteMemfdGroupWhenTheMachineHasSuchPages() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Hugepages.available(PageSize.HUGE_1G) >= 1, "needs a free 1 GB"
                + " page: echo 1 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages (or hugepagesz=1G"
                + " hugepages=1 at boot)");
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(runtimeDir)
                .backing(Backing.MEMFD).pageSize(PageSize.HUGE_1G).size(1).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            DmaSegment s = g.segment(0);
            assertEquals(1L << 30, s.size());
            assertEquals(1L << 20, TestSupport.smapsField(s.memory().address(), "KernelPageSize"));
            assertEquals(0, s.iovaBase() % (1L << 30), "ASSIGNED IOVAs are aligned to the page size");
        }
    }

    @Test
    void memfdSmallPageGroup() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).backing(Backing.MEMFD).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            Memzone z = g.reserve("a", 100);
            z.memory().set(ValueLayout.JAVA_INT, 0, 5);
            assertEquals(5, g.lookup("a").memory().get(ValueLayout.JAVA_INT, 0));
        }
    }

    @Test
    void assignedIovasArePageAlignedAndDisjointAcrossSegments() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).iovaRange(1L << 32, 1L << 36).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            DmaSegment a = g.segment(0);
            DmaSegment b = g.addSegment(10_000);
            DmaSegment c = g.addSegment(4096);
            assertEquals(1L << 32, a.iovaBase());
            for (DmaSegment s : List.of(a, b, c)) {
                assertEquals(0, s.iovaBase() % 4096);
                assertEquals(s.iovaBase() + 123, s.iova(123));
                assertEquals(s.iovaBase() + s.size() - 1, s.iova(s.size() - 1));
                assertThrows(IndexOutOfBoundsException.class, () -> s.iova(s.size()));
                assertThrows(IndexOutOfBoundsException.class, () -> s.iova(-1));
            }
            assertTrue(b.iovaBase() >= a.iovaBase() + a.size());
            assertTrue(c.iovaBase() >= b.iovaBase() + b.size());
            assertEquals(3, g.segmentCount());
        }
    }

    @Test
    void identityIovaIsTheCreatorsAddress() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).iovaMode(IovaMode.IDENTITY).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            Memzone z = g.reserve("z", 1000, 256);
            assertEquals(z.memory().address() + 10, z.iova(10));
            assertEquals(IovaMode.IDENTITY, g.iovaMode());
        }
    }

    @Test
    void memzonesAreAlignedDisjointAndFoundByNameInAnotherAttachment() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).build();
        try (MemoryGroup g = MemoryGroup.create(cfg); MemoryGroup other = MemoryGroup.attach(cfg)) {
            Memzone a = g.reserve("rx_ring_0", 1000, 128);
            Memzone b = g.reserve("mempool", 5000, 4096);
            Memzone c = g.reserve("c", 1, 1);
            assertEquals(0, a.offset() % 128);
            assertEquals(0, b.offset() % 4096);
            assertTrue(b.offset() >= a.offset() + a.length());
            assertTrue(c.offset() >= b.offset() + b.length());
            a.memory().set(ValueLayout.JAVA_LONG, 992, 0x1234_5678_9ABCL);
            Memzone seen = other.lookup("rx_ring_0");
            assertNotEquals(a.memory().address(), seen.memory().address(), "a second mapping");
            assertEquals(0x1234_5678_9ABCL, seen.memory().get(ValueLayout.JAVA_LONG, 992));
            assertEquals(a.offset(), seen.offset());
            assertEquals(a.iova(0), seen.iova(0));
            assertEquals(List.of("rx_ring_0", "mempool", "c"), other.memzones().stream().map(Memzone::name).toList());
            assertEquals(3, g.memzoneCount());
            // created by the attacher, seen by the creator
            other.reserve("from-other", 64).memory().set(ValueLayout.JAVA_INT, 0, 77);
            assertEquals(77, g.lookup("from-other").memory().get(ValueLayout.JAVA_INT, 0));
            assertTrue(g.find("nope").isEmpty());
        }
    }

    @Test
    void zonesNoLargerThanAPageNeverCrossAPageBoundary() {
        assertEquals(4096, MemoryGroup.place(4000, 200, 8, PageSize.SMALL_4K, 1 << 20));
        assertEquals(4000, MemoryGroup.place(4000, 96, 8, PageSize.SMALL_4K, 1 << 20));
        assertEquals(4000, MemoryGroup.place(4000, 5000, 8, PageSize.SMALL_4K, 1 << 20), "larger zones may cross");
        assertEquals(-1, MemoryGroup.place(8000, 200, 8, PageSize.SMALL_4K, 8192));
        assertEquals(MB2, MemoryGroup.place(MB2 - 64, 128, 64, PageSize.HUGE_2M, 4 * MB2));
        try (MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build())) {
            g.reserve("filler", 4000, 1);
            Memzone z = g.reserve("desc", 512, 16);
            assertEquals(4096, z.offset());
        }
    }

    @Test
    void addedSegmentIsAttachedLaterByAnotherAttachment() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).build();
        try (MemoryGroup g = MemoryGroup.create(cfg); MemoryGroup other = MemoryGroup.attach(cfg)) {
            g.reserve("fill", 1 << 20, 64);
            DmaSegment added = g.addSegment(1 << 16);
            assertEquals(1, added.id());
            Memzone z = g.reserve("in-new", 128);
            assertEquals(1, z.segmentId());
            z.memory().set(ValueLayout.JAVA_LONG, 0, 42);
            assertEquals(1, other.segments().size(), "not yet mapped in the other attachment");
            assertEquals(2, other.segmentCount());
            DmaSegment mapped = other.attachSegment(1);
            assertEquals(added.iovaBase(), mapped.iovaBase());
            assertEquals(42, other.lookup("in-new").memory().get(ValueLayout.JAVA_LONG, 0));
            assertEquals(other.slice(1, z.offset(), 8).address(), other.lookup("in-new").memory().address());
            assertThrows(IndexOutOfBoundsException.class, () -> other.slice(1, 1 << 16, 1));
        }
    }

    @Test
    void memfdSegmentAddedLaterMustBeHandedOver() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).backing(Backing.MEMFD).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            MemoryGroup other = MemoryGroup.attach(cfg, Io.dup(g.headerFd()), id -> Io.dup(g.segment(id).fd()));
            DmaSegment added = g.addSegment(4096);
            g.reserve("big", 1 << 20, 64);
            Memzone z = g.reserve("late", 64);
            try (other) {
                assertEquals(1, z.segmentId());
                assertEquals(added.iovaBase(), other.attachSegment(1).iovaBase(), "through SegmentFds");
            }
            MemoryGroup noFds = MemoryGroup.attach(cfg, Io.dup(g.headerFd()), null);
            try (noFds) {
                MemoryException e = assertThrows(MemoryException.class, () -> noFds.lookup("late"));
                assertEquals(MemoryException.Reason.NOT_ATTACHED, e.reason());
                assertTrue(e.getMessage().contains("attachSegment(1, fd)"), e.getMessage());
                noFds.attachSegment(0, Io.dup(g.segment(0).fd()));
                noFds.attachSegment(1, Io.dup(g.segment(1).fd()));
                assertEquals(z.iova(0), noFds.lookup("late").iova(0));
            }
        }
    }

    // ------------------------------------------------------------------------------------------ bad input

    @Test
    void duplicateNameIsRefusedAndTheFirstZoneSurvives() {
        try (MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build())) {
            Memzone first = g.reserve("pool", 256);
            MemoryException e = assertThrows(MemoryException.class, () -> g.reserve("pool", 512));
            assertEquals(MemoryException.Reason.EXISTS, e.reason());
            assertTrue(e.getMessage().startsWith("memzone 'pool' already exists (segment 0, offset 0x0, 256 bytes)"),
                    e.getMessage());
            assertEquals(1, g.memzoneCount());
            assertEquals(first.offset(), g.lookup("pool").offset());
            assertEquals(256, g.lookup("pool").length());
        }
    }

    @Test
    void badNamesSizesAndAlignmentsAreRefused() {
        try (MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build())) {
            String longName = "x".repeat(32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.reserve(longName, 64));
            assertEquals("memzone name '" + longName + "' is 32 characters; the limit is 31 (as DPDK's"
                    + " RTE_MEMZONE_NAMESIZE)", e.getMessage());
            g.reserve("y".repeat(31), 64); // the limit itself is fine
            assertThrows(IllegalArgumentException.class, () -> g.lookup(longName));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> g.reserve("", 64)).getMessage()
                    .contains("empty"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> g.reserve("a b", 64)).getMessage()
                    .contains("printable ASCII"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> g.reserve("z", 0)).getMessage()
                    .contains("size 0"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> g.reserve("z", 64, 48)).getMessage()
                    .contains("alignment 48 must be a power of two"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> g.reserve("z", 64, 8192)).getMessage()
                    .contains("between 1 and the page size (4096)"));
            assertEquals(1, g.memzoneCount(), "nothing recorded for the refused ones");
        }
    }

    @Test
    void lookupOfAMissingNameSaysWhatExists() {
        try (MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build())) {
            g.reserve("alpha", 64);
            g.reserve("beta", 64);
            MemoryException e = assertThrows(MemoryException.class, () -> g.lookup("gamma"));
            assertEquals(MemoryException.Reason.NOT_FOUND, e.reason());
            assertEquals("no memzone named 'gamma' in memory group '" + g.filePrefix() + "' (2 memzone(s): alpha,"
                    + " beta)", e.getMessage());
        }
    }

    @Test
    void fullSegmentsFullTablesAndExhaustedIovaSpaceAreReported() throws IOException {
        MemoryConfig cfg = TestSupport.small(runtimeDir).size(8192).maxSegments(2).maxMemzones(2)
                .iovaRange(1L << 32, (1L << 32) + 12288).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            MemoryException big = assertThrows(MemoryException.class, () -> g.reserve("big", 10_000));
            assertEquals(MemoryException.Reason.OUT_OF_MEMORY, big.reason());
            assertTrue(big.getMessage().contains("no segment of group '" + g.filePrefix() + "' has room for memzone"
                    + " 'big' (10000 bytes aligned to 64; largest free tail: 8192 bytes in 1 segment(s))"),
                    big.getMessage());
            MemoryException iova = assertThrows(MemoryException.class, () -> g.addSegment(8192));
            assertTrue(iova.getMessage().startsWith("IOVA space exhausted"), iova.getMessage());
            assertEquals(1, g.segmentCount(), "the failed segment is not recorded");
            g.addSegment(4096);
            MemoryException segs = assertThrows(MemoryException.class, () -> g.addSegment(4096));
            assertTrue(segs.getMessage().contains("segment table of group '" + g.filePrefix() + "' is full (2"),
                    segs.getMessage());
            g.reserve("a", 64);
            g.reserve("b", 64);
            MemoryException zones = assertThrows(MemoryException.class, () -> g.reserve("c", 64));
            assertTrue(zones.getMessage().contains("memzone table of group '" + g.filePrefix() + "' is full (2"),
                    zones.getMessage());
        }
        try (var files = Files.list(runtimeDir)) {
            assertEquals(List.of(), files.toList(), "no file left behind by the failed segment");
        }
    }

    @Test
    void segmentIdOutOfRange() {
        try (MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build())) {
            MemoryException e = assertThrows(MemoryException.class, () -> g.attachSegment(5));
            assertEquals(MemoryException.Reason.NOT_FOUND, e.reason());
            assertEquals("segment id 5 is out of range: group '" + g.filePrefix() + "' has 1 segment(s) (ids 0..0)",
                    e.getMessage());
            assertThrows(MemoryException.class, () -> g.slice(-1, 0, 1));
        }
    }

    @Test
    void physicalNeedsHugepages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestSupport.small(runtimeDir).iovaMode(IovaMode.PHYSICAL).build());
        assertTrue(e.getMessage().startsWith("IOVA mode PHYSICAL needs hugepages"), e.getMessage());
        try (MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build())) {
            MemoryException m = assertThrows(MemoryException.class, () -> g.segment(0).requirePhysical("UIO"));
            assertEquals(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, m.reason());
            assertTrue(m.getMessage().startsWith("UIO needs physical addresses, but segment 0 is made of 4 KB pages"),
                    m.getMessage());
        }
    }

    @Test
    void badPrefixesAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryConfig.builder().filePrefix("a/../x")
                .runtimeDir(runtimeDir).build()).getMessage().contains("may only hold letters"));
        assertThrows(IllegalArgumentException.class, () -> MemoryConfig.builder().filePrefix("")
                .runtimeDir(runtimeDir).build());
        assertThrows(IllegalArgumentException.class, () -> MemoryConfig.builder().filePrefix("a".repeat(33))
                .runtimeDir(runtimeDir).build());
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    @Test
    void aLiveGroupCannotBeCreatedTwiceAndAStaleOneIsCleanedUp() throws IOException {
        MemoryConfig cfg = TestSupport.small(runtimeDir).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
            assertEquals(MemoryException.Reason.GROUP_EXISTS, e.reason());
            assertTrue(e.getMessage().contains("is in use by a live process"), e.getMessage());
            assertEquals(-1, MemoryGroup.removeStale(cfg), "nothing removed while alive");
            assertTrue(Files.exists(g.segment(0).path().orElseThrow()));
        }
        // leftovers of a group whose processes died (nobody holds their locks)
        Files.write(cfg.headerPath(), new byte[4096]);
        Files.write(runtimeDir.resolve(cfg.filePrefix() + "map_0"), new byte[4096]);
        Files.write(runtimeDir.resolve(cfg.filePrefix() + "map_7"), new byte[4096]);
        Path unrelated = Files.write(runtimeDir.resolve(cfg.filePrefix() + "map_x"), new byte[1]);
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            assertFalse(Files.exists(runtimeDir.resolve(cfg.filePrefix() + "map_7")), "stale segment removed");
            assertTrue(Files.exists(unrelated), "only <prefix>map_<number> files are touched");
            assertEquals(1, g.segmentCount());
        }
    }

    @Test
    void attachingAMissingGroupSaysSo() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).build();
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.attach(cfg));
        assertEquals(MemoryException.Reason.GROUP_MISSING, e.reason());
        assertTrue(e.getMessage().startsWith("no memory group '" + cfg.filePrefix() + "': " + cfg.headerPath()
                + " does not exist"), e.getMessage());
    }

    @Test
    void lastCloserRemovesFilesEvenWhenTheCreatorClosesFirst() {
        MemoryConfig cfg = TestSupport.small(runtimeDir).build();
        MemoryGroup g = MemoryGroup.create(cfg);
        MemoryGroup other = MemoryGroup.attach(cfg);
        g.close();
        assertTrue(Files.exists(cfg.headerPath()), "still in use by the other attachment");
        other.lookup(other.reserve("still-works", 64).name());
        other.close();
        assertFalse(Files.exists(cfg.headerPath()));
        assertThrows(IllegalStateException.class, () -> other.reserve("closed", 64));
    }

    @Test
    void viewsOfAClosedGroupThrowInsteadOfTouchingUnmappedMemory() {
        MemoryGroup g = MemoryGroup.create(TestSupport.small(runtimeDir).build());
        Memzone z = g.reserve("z", 64);
        MemorySegment whole = g.segment(0).memory();
        g.close();
        assertThrows(IllegalStateException.class, () -> z.memory().get(ValueLayout.JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, () -> whole.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        assertThrows(IllegalStateException.class, () -> g.lookup("z"));
        assertThrows(IllegalStateException.class, g::memzoneCount);
        g.close(); // idempotent
    }

    @Test
    void identitySegmentsThatWouldOverlapAnotherProcesssRangeAreRefused() throws IOException {
        MemoryConfig cfg = TestSupport.small(runtimeDir).iovaMode(IovaMode.IDENTITY).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            // pretend segment 0 was mapped by another process over the upper half of the user address space
            int fd = Io.open(cfg.headerPath().toString(), Io.O_RDWR);
            MemorySegment raw = io.jnic.sys.Mman.mmap(MemoryGroup.fdSize(fd), 3, io.jnic.sys.Mman.MAP_SHARED, fd, 0);
            long base = GroupLayout.segmentTableOffset() + GroupLayout.S_IOVA_BASE;
            long size = GroupLayout.segmentTableOffset() + GroupLayout.S_SIZE;
            long savedBase = raw.get(ValueLayout.JAVA_LONG, base);
            long savedSize = raw.get(ValueLayout.JAVA_LONG, size);
            raw.set(ValueLayout.JAVA_LONG, base, 1L << 46);
            raw.set(ValueLayout.JAVA_LONG, size, 1L << 46);
            try {
                MemoryException e = assertThrows(MemoryException.class, () -> g.addSegment(4096));
                assertTrue(e.getMessage().contains("of a new segment overlaps segment 0, which another process mapped"
                        + " at that address: add segments from one process (the primary) in IDENTITY mode, or use"
                        + " ASSIGNED"), e.getMessage());
                assertEquals(1, g.segmentCount());
                assertFalse(Files.exists(runtimeDir.resolve(cfg.filePrefix() + "map_1")), "no file left behind");
            } finally {
                raw.set(ValueLayout.JAVA_LONG, base, savedBase);
                raw.set(ValueLayout.JAVA_LONG, size, savedSize);
                io.jnic.sys.Mman.munmap(raw);
                Io.close(fd);
            }
            assertEquals(1, g.addSegment(4096).id(), "fine once the other range is gone");
        }
    }

    @Test
    void pageSizes() {
        assertEquals(PageSize.HUGE_1G, PageSize.ofBytes(1L << 30));
        assertEquals("unsupported page size 65536 bytes: jnic knows 4096 (4 KB), 2097152 (2 MB) and 1073741824 (1 GB)",
                assertThrows(IllegalArgumentException.class, () -> PageSize.ofBytes(65536)).getMessage());
        assertEquals(2 * MB2, PageSize.HUGE_2M.roundUp(MB2 + 1));
        assertEquals(0, PageSize.HUGE_2M.roundUp(0));
        assertEquals("hugepages-1048576kB", PageSize.HUGE_1G.sysfsName());
    }

    @Test
    void headerSizeIsLaidOutAsDocumented() {
        assertEquals(512 + 64 * 128 + 2560 * 64 + 4096 - (512 + 64 * 128 + 2560 * 64) % 4096,
                GroupLayout.headerSize(64, 2560));
        assertArrayEquals("JNICMEM1".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                MemorySegment.ofArray(new long[] {GroupLayout.MAGIC}).toArray(ValueLayout.JAVA_BYTE));
    }
}
