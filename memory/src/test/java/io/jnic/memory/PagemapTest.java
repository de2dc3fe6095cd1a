package io.jnic.memory;

import static io.jnic.memory.TestSupport.MB2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PagemapTest {
    @TempDir
    Path runtimeDir;

    @Test
    void decodesEntries() {
        assertEquals(0x1234L * 4096, Pagemap.decode(Pagemap.PRESENT | 0x1234L, 0x7f00_0000_0000L));
        MemoryException absent = assertThrows(MemoryException.class, () -> Pagemap.decode(0, 0x7f00_0000_1000L));
        assertEquals(MemoryException.Reason.NO_PHYSICAL_ADDRESSES, absent.reason());
        assertEquals("the page at virtual 0x7f0000001000 is not present in memory: DMA memory must be populated and"
                + " locked before its physical address is read", absent.getMessage());
        assertTrue(assertThrows(MemoryException.class, () -> Pagemap.decode(Pagemap.SWAPPED, 0)).getMessage()
                .contains("(swapped out)"));
        MemoryException hidden = assertThrows(MemoryException.class, () -> Pagemap.decode(Pagemap.PRESENT, 0));
        assertTrue(hidden.getMessage().startsWith("the kernel hides physical page frame numbers from this process"),
                hidden.getMessage());
        assertEquals((Pagemap.PFN_MASK) * 4096, Pagemap.decode(Pagemap.PRESENT | (1L << 61) | Pagemap.PFN_MASK, 0),
                "bits 55-61 are flags, not PFN");
    }

    @Test
    void physicalTranslationMatchesPagemapForEveryPageOfAHugepageSegment() {
        TestSupport.assumeRoot();
        MemoryConfig cfg = TestSupport.huge(runtimeDir, 3).iovaMode(IovaMode.PHYSICAL).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            DmaSegment s = g.segment(0);
            long base = s.memory().address();
            for (long page = 0; page < s.size(); page += MB2) {
                long head = Pagemap.physicalAddress(base + page);
                assertEquals(0, head % MB2, "a 2 MB page is 2 MB aligned physically");
                for (long off = page; off < page + MB2; off += 4096) {
                    long pa = Pagemap.physicalAddress(base + off);
                    assertEquals(head + (off - page), pa, "contiguous within the 2 MB page at +" + off);
                    assertEquals(pa, s.iova(off));
                    assertEquals(pa + 123, s.iova(off + 123));
                }
            }
            s.requirePhysical("UIO"); // accepted
            Memzone z = g.reserve("desc", 4096, 4096);
            assertEquals(Pagemap.physicalAddress(z.memory().address()), z.iova(0));
            assertTrue(z.iovaContiguous());
            try (MemoryGroup other = MemoryGroup.attach(cfg)) {
                assertEquals(z.iova(0), other.lookup("desc").iova(0), "same physical page through another mapping");
            }
        }
    }

    @Test
    void anUnprivilegedProcessIsToldThatPfnsAreHidden() throws Exception {
        TestSupport.assumeRoot();
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv to drop privileges");
        try (ChildJvm child = ChildJvm.start(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups", "--inh-caps=-all"), ChildJvm.ownClassPath(), "pagemap")) {
            String msg = child.expect("MESSAGE");
            child.assertExitsCleanly();
            assertTrue(msg.startsWith("NO_PHYSICAL_ADDRESSES the kernel hides physical page frame numbers from this"
                    + " process (uid 65534, /proc/self/pagemap shows PFN 0 without CAP_SYS_ADMIN): run as root"), msg);
        }
    }
}
