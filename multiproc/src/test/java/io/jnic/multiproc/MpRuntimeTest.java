package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.sys.Proc;
import io.jnic.sys.Sched;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The runtime in this process: start, errors a user sees, lcores and floating threads. */
@Timeout(60)
class MpRuntimeTest {
    @TempDir
    Path base;

    @BeforeEach
    void useTempRuntimeDirs() {
        System.setProperty(RuntimeDir.BASE_PROPERTY, base.toString());
    }

    @AfterEach
    void clear() {
        System.clearProperty(RuntimeDir.BASE_PROPERTY);
    }

    /** Starts a runtime with 4 KB pages (tests must not depend on hugepages). */
    static MpRuntime start(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "--no-huge";
        System.arraycopy(args, 0, all, 1, args.length);
        return MpRuntime.start(EalOptions.parse(all));
    }

    @Test
    void aPrimaryCreatesAPrivateDirWithConfigLockAndSocket() throws Exception {
        try (MpRuntime rt = start("--file-prefix", "p1")) {
            Path dir = base.resolve("p1");
            assertEquals(dir, rt.runtimeDir());
            assertTrue(rt.isPrimary());
            assertEquals(0, rt.procId());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            assertTrue(Files.exists(dir.resolve("config")));
            assertEquals(Proc.getpid() + "\n", Files.readString(dir.resolve("lock")));
            assertTrue(Files.exists(dir.resolve(IpcChannel.PRIMARY_SOCKET)));
            assertEquals(SharedConfig.STATE_READY, rt.config().state());
            assertEquals(BuildId.current(), rt.config().buildId());
            assertEquals(Proc.getpid(), rt.config().primaryPid());
            assertThrows(IllegalStateException.class, () -> rt.onPrimaryExit(() -> { }));
        }
    }

    @Test
    void autoBecomesPrimaryWhenNoneRuns() {
        try (MpRuntime rt = start("--proc-type", "auto", "--file-prefix", "p2")) {
            assertEquals(ProcType.PRIMARY, rt.procType());
        }
    }

    @Test
    void aSecondaryWithoutPrimaryNamesTheDirAndSaysToStartOne() {
        MpException e = assertThrows(MpException.class, () -> start("--proc-type", "secondary", "--file-prefix", "none"));
        assertEquals("no primary process runs for file prefix 'none' (looked in " + base.resolve("none")
                + "); start a primary first (--proc-type primary or auto) with the same --file-prefix", e.getMessage());
    }

    @Test
    void oneRuntimePerPrefixInAProcess() {
        try (MpRuntime rt = start("--file-prefix", "once")) {
            MpException e = assertThrows(MpException.class, () -> start("--proc-type", "secondary", "--file-prefix", "once"));
            assertTrue(e.getMessage().startsWith("this process already runs the runtime of file prefix 'once'"), e.getMessage());
        }
        start("--file-prefix", "once").close(); // and again after close
    }

    @Test
    void anLcoreWithoutCpuIsRefused() {
        BitSet cpus = Sched.getAffinity(0);
        int missing = LcoreSet.MAX_LCORES - 1;
        org.junit.jupiter.api.Assumptions.assumeFalse(cpus.get(missing), "this machine has cpu " + missing);
        MpException e = assertThrows(MpException.class, () -> start("-l", "0," + missing, "--file-prefix", "cpu"));
        assertTrue(e.getMessage().startsWith("lcore " + missing + " maps to cpu " + missing + ", which does not exist or "
                + "is not available to this process (cpus: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("); choose lcores among them with -l"), e.getMessage());
    }

    @Test
    void aForeignOrOpenRuntimeDirIsRefused() throws Exception {
        Path dir = base.resolve("foreign");
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        MpException e = assertThrows(MpException.class, () -> start("--file-prefix", "foreign"));
        assertEquals("runtime dir " + dir + " has mode 0755; it must be 0700 (private to its owner): chmod 700 " + dir,
                e.getMessage());
        if (Proc.geteuid() == 0) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Files.setAttribute(dir, "unix:uid", 65534);
            e = assertThrows(MpException.class, () -> start("--file-prefix", "foreign"));
            assertEquals("runtime dir " + dir + " belongs to uid 65534, not to this process (uid 0); another user's "
                    + "jnic uses it: pick another --file-prefix or run as that user", e.getMessage());
        }
    }

    @Test
    void aDeadPrimarysFilesAreCleanedUp() throws Exception {
        Path dir = RuntimeDir.prepare(base.resolve("stale"));
        int dead = LcoreTableTest.deadPid();
        Files.writeString(dir.resolve("lock"), dead + "\n");
        Files.write(dir.resolve("config"), new byte[100]); // garbage, too short
        Files.writeString(dir.resolve("mp_socket"), "");
        Files.writeString(dir.resolve("mp_socket_" + dead + "_1"), "");
        try (MpRuntime rt = start("--file-prefix", "stale")) {
            assertTrue(rt.isPrimary());
            assertEquals(SharedConfig.MAGIC, rt.config().magic());
            assertFalse(Files.exists(dir.resolve("mp_socket_" + dead + "_1")));
            assertEquals(Proc.getpid() + "\n", Files.readString(dir.resolve("lock")));
            assertEquals(0, rt.ipc().peers().size());
        }
    }

    @Test
    void threadsArePinnedToTheirLcoresAndFloatingThreadsBorrowFreeIds() throws Exception {
        BitSet cpus = Sched.getAffinity(0);
        int cpu = cpus.nextSetBit(0);
        try (MpRuntime rt = start("-l", String.valueOf(cpu), "--file-prefix", "pin")) {
            assertEquals(rt.pid(), rt.lcoreTable().holder(cpu));
            int[] seen = new int[2];
            Thread t = rt.launch(cpu, () -> {
                seen[0] = MpRuntime.currentLcore();
                seen[1] = Sched.getAffinity(0).cardinality() == 1 && Sched.getAffinity(0).get(cpu) ? 1 : 0;
            });
            t.join();
            assertEquals(cpu, seen[0]);
            assertEquals(1, seen[1], "pinned to exactly cpu " + cpu);
            assertEquals("lcore 99 is not one of this process's lcores [" + cpu + "]; claim it with -l",
                    assertThrows(IllegalArgumentException.class, () -> rt.launch(99, () -> { })).getMessage());

            AtomicInteger a = new AtomicInteger(-1);
            AtomicInteger b = new AtomicInteger(-1);
            java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            Runnable body = () -> { };
            Thread f1 = rt.launchFloating("float-1", () -> {
                a.set(MpRuntime.currentLcore());
                both.countDown();
                await(done);
            });
            Thread f2 = rt.launchFloating("float-2", () -> {
                b.set(MpRuntime.currentLcore());
                both.countDown();
                await(done);
            });
            both.await();
            assertNotEquals(a.get(), b.get(), "each floating thread has its own lcore id");
            for (int id : new int[] {a.get(), b.get()}) {
                assertTrue(id >= 0 && id != cpu, "a free id, not the pinned lcore: " + id);
                assertEquals(rt.pid(), rt.lcoreTable().holder(id), "claimed in the shared table");
            }
            done.countDown();
            f1.join();
            f2.join();
            assertEquals(0, rt.lcoreTable().holder(a.get()), "given back when the thread ends");
            assertEquals(0, rt.lcoreTable().holder(b.get()));
            body.run();
        }
    }

    private static void await(java.util.concurrent.CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void withHugepagesTheGroupsMemoryIsHugepages() {
        TestResources.assumeHugepageFiles(2); // the group's files go to /dev/hugepages
        String prefix = "mphuge" + Proc.getpid(); // hugetlbfs is shared with every other test on this machine
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--file-prefix", prefix, "-m", "2"))) {
            assertEquals(io.jnic.memory.PageSize.HUGE_2M, rt.memory().pageSize());
            assertEquals(1, rt.memory().segmentCount(), "-m 2: one 2 MB segment at start");
            assertEquals(2L << 20, rt.memory().segment(0).size());
            assertEquals(64, rt.reserve("z", 64).length());
        }
    }
}
