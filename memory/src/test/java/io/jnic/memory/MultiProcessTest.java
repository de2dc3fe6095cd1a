package io.jnic.memory;

import static io.jnic.memory.TestSupport.MB2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnic.sys.Proc;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second JVM attaches the group, finds memzones by name and shares their bytes; locks work across processes. */
class MultiProcessTest {
    @TempDir
    Path runtimeDir;

    /** Parent writes, child (mapping elsewhere) reads it and writes back; IOVAs agree. */
    private void childSeesAndWrites(MemoryGroup g, String... childArgs) throws Exception {
        Memzone z = g.lookup("shared");
        z.memory().set(ValueLayout.JAVA_LONG, 0, 0x1234L);
        DmaSegment seg = z.segment();
        try (ChildJvm child = ChildJvm.start(childArgs)) {
            long blocked = Long.parseLong(child.expect("BLOCKED"));
            String[] f = child.expect("ZONE").split(" ");
            long childZoneAddress = Long.parseLong(f[0]);
            long childIova = Long.parseLong(f[1]);
            long seen = Long.parseLong(f[2]);
            long childSegAddress = Long.parseLong(f[3]);
            child.expect("WROTE");
            child.assertExitsCleanly();
            assertEquals(0x1234L, seen, "the child read what the parent wrote");
            assertEquals(z.iova(0), childIova, "the same IOVA in both processes");
            assertEquals(seg.memory().address(), blocked, "the child occupied the parent's address first");
            assertNotEquals(seg.memory().address(), childSegAddress, "so it mapped the segment elsewhere");
            assertEquals(childSegAddress + z.offset(), childZoneAddress);
            assertEquals(0xC0FFEEL + 0x1234L, z.memory().get(ValueLayout.JAVA_LONG, 8), "the parent sees the child's write");
        }
    }

    private static String[] attachArgs(MemoryConfig cfg, MemoryGroup g) {
        DmaSegment s = g.segment(0);
        return new String[] {"attach", cfg.runtimeDir().toString(), cfg.filePrefix(), "shared",
            Long.toString(s.memory().address()), Long.toString(s.size())};
    }

    @Test
    void childAttachesASmallPageFileGroup() throws Exception {
        MemoryConfig cfg = TestSupport.small(runtimeDir).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            g.reserve("pad", 3000);
            g.reserve("shared", 4096, 4096);
            childSeesAndWrites(g, attachArgs(cfg, g));
        }
    }

    @Test
    void childAttachesAHugetlbfsGroup() throws Exception {
        // as root, in PHYSICAL mode: the child then also checks that it maps the same physical pages
        IovaMode mode = Proc.geteuid() == 0 ? IovaMode.PHYSICAL : IovaMode.ASSIGNED;
        MemoryConfig cfg = TestSupport.huge(runtimeDir, 2).iovaMode(mode).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            g.reserve("pad", MB2 - 100);
            g.reserve("shared", 1 << 16, 64);
            assertEquals(MB2, g.lookup("shared").offset(), "moved to the next hugepage rather than straddle it");
            childSeesAndWrites(g, attachArgs(cfg, g));
        }
    }

    @Test
    void childAttachesAMemfdHugetlbGroupThroughItsDescriptors() throws Exception {
        TestSupport.assumeRoot(); // the child opens our memfds through /proc/<pid>/fd, standing in for SCM_RIGHTS
        TestSupport.assumeHugepages(1);
        MemoryConfig cfg = MemoryConfig.builder().filePrefix(TestSupport.prefix()).runtimeDir(runtimeDir)
                .backing(Backing.MEMFD).size(MB2).build();
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            g.reserve("shared", 256);
            DmaSegment s = g.segment(0);
            childSeesAndWrites(g, "attach-memfd", cfg.filePrefix(), Long.toString(ProcessHandle.current().pid()),
                    Integer.toString(g.headerFd()), Integer.toString(s.fd()), "shared",
                    Long.toString(s.memory().address()), Long.toString(s.size()));
        }
    }

    @Test
    void concurrentReservationsFromTwoProcessesAreUniqueAndDisjoint() throws Exception {
        int threads = 4;
        int perThread = 100;
        MemoryConfig cfg = TestSupport.small(runtimeDir).size(8L << 20).build();
        try (MemoryGroup g = MemoryGroup.create(cfg);
                ChildJvm child = ChildJvm.start("reserve-many", runtimeDir.toString(), cfg.filePrefix(),
                        Integer.toString(threads), Integer.toString(perThread), "child")) {
            child.expect("READY");
            OutputStream go = child.process.getOutputStream();
            go.write("GO\n".getBytes(StandardCharsets.US_ASCII));
            go.flush();
            List<Thread> ts = new ArrayList<>();
            List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                int id = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        GroupChild.reserveZones(g, "parent-" + id, perThread, id);
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
            assertEquals(List.of(), errors);
            assertEquals(Integer.toString(threads * perThread), child.expect("DONE"));
            child.assertExitsCleanly();

            List<Memzone> zones = new ArrayList<>(g.memzones());
            assertEquals(2 * threads * perThread, zones.size());
            Set<String> names = new HashSet<>();
            for (Memzone z : zones) {
                assertTrue(names.add(z.name()), "unique name " + z.name());
                assertEquals(0, z.offset() % z.align(), z + " aligned");
                assertEquals((long) z.name().hashCode(), z.memory().get(ValueLayout.JAVA_LONG_UNALIGNED, 0),
                        z + " holds the stamp its creator wrote: no other zone overlapped it");
            }
            zones.sort(Comparator.comparingInt(Memzone::segmentId).thenComparingLong(Memzone::offset));
            for (int i = 1; i < zones.size(); i++) {
                Memzone a = zones.get(i - 1);
                Memzone b = zones.get(i);
                if (a.segmentId() == b.segmentId()) {
                    assertTrue(a.offset() + a.length() <= b.offset(), a + " overlaps " + b);
                }
            }
            assertEquals(0, g.lock().recoveries());
            assertEquals(0, g.lock().holderPid());
            // table order is creation order: count the hand-overs between the two processes
            int switches = 0;
            List<Memzone> byIndex = g.memzones();
            for (int i = 1; i < byIndex.size(); i++) {
                if (byIndex.get(i).name().startsWith("child") != byIndex.get(i - 1).name().startsWith("child")) {
                    switches++;
                }
            }
            assumeTrue(switches > 0, "the two processes did not overlap in time, so this run proved less");
        }
    }

    @Test
    void aLockHolderKilledWithSigkillDoesNotWedgeTheNextCreator() throws Exception {
        MemoryConfig cfg = TestSupport.small(runtimeDir).lockTimeout(Duration.ofMillis(500)).build();
        try (MemoryGroup g = MemoryGroup.create(cfg);
                ChildJvm child = ChildJvm.start("hold-lock", runtimeDir.toString(), cfg.filePrefix())) {
            int pid = Integer.parseInt(child.expect("LOCKED"));
            assertEquals(pid, g.lock().holderPid());
            MemoryException busy = assertThrows(MemoryException.class, () -> g.reserve("while-held", 64));
            assertEquals(MemoryException.Reason.LOCK_TIMEOUT, busy.reason());
            assertTrue(busy.getMessage().startsWith("the memory group lock is held by live process " + pid
                    + " for more than 500 ms"), busy.getMessage());

            child.kill(); // SIGKILL: no chance to unlock
            Memzone z = g.reserve("after-kill", 64);
            assertEquals("after-kill", g.lookup("after-kill").name());
            assertEquals(z.offset(), g.lookup("after-kill").offset());
            assertEquals(1, g.lock().recoveries());
            assertEquals(0, g.lock().holderPid());
            assertEquals(1, g.memzoneCount(), "the refused reservation left nothing behind");
        }
    }

    @Test
    void hugepageFilesOfAKilledPrimaryAreRemovedByTheNextCreator() throws Exception {
        TestSupport.assumeHugepages(2);
        MemoryConfig cfg = TestSupport.huge(runtimeDir, 2).build();
        Path file;
        try (ChildJvm child = ChildJvm.start("create-and-wait", runtimeDir.toString(), cfg.filePrefix(),
                Long.toString(2 * MB2))) {
            file = Path.of(child.expect("CREATED"));
            assertEquals(Path.of("/dev/hugepages", cfg.filePrefix() + "map_0"), file);
            MemoryException alive = assertThrows(MemoryException.class, () -> MemoryGroup.create(cfg));
            assertEquals(MemoryException.Reason.GROUP_EXISTS, alive.reason());
            try (MemoryGroup attached = MemoryGroup.attach(cfg)) {
                assertEquals("from-dead-child", attached.lookup("from-dead-child").name());
            }
            assertTrue(Files.exists(file), "the live child still holds it");
            child.kill();
        }
        assertTrue(Files.exists(file), "a SIGKILLed process leaves its hugepage files behind");
        try (MemoryGroup g = MemoryGroup.create(cfg)) {
            assertEquals(0, g.memzoneCount(), "a fresh group, not the dead one");
            assertEquals(-1, g.segment(0).memory().mismatch(
                    java.lang.foreign.MemorySegment.ofArray(new byte[(int) (2 * MB2)])), "fresh zeroed pages");
        }
        assertTrue(Files.notExists(file), "and removed by the last close");
    }
}
