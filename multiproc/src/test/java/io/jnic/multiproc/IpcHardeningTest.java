package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcStats;
import io.jnic.sys.Io;
import io.jnic.sys.Proc;
import io.jnic.sys.Sockets;
import io.jnic.sys.testing.TestResources;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer cannot stall or misuse the primary's IPC, and a group leaves nothing behind: real processes (this JVM,
 * child JVMs running {@link MpChild}) and raw sockets that behave badly.
 */
@Timeout(120)
class IpcHardeningTest {
    /** Above the kernel's largest pid_max (PID_MAX_LIMIT, 4194304): no process has it. */
    private static final int DEAD_PID = 4_194_305;

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

    /** A well-formed datagram of the wire format (version 1, see the ipc package description). */
    static byte[] datagram(int type, long requestId, String name, byte[] param) {
        ByteBuffer b = ByteBuffer.allocate(84 + param.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x504D_4E4A).put((byte) 1).put((byte) type).put((byte) name.length()).put((byte) 0).putLong(requestId)
                .putShort((short) param.length).putShort((short) 0);
        b.put(name.getBytes(StandardCharsets.US_ASCII));
        b.position(84);
        b.put(param);
        return b.array();
    }

    /** A socket bound at {@code path}, which sends {@code data} (blocking) and never reads. */
    private static final class RawPeer implements AutoCloseable {
        final int fd;
        final Path path;
        final UnixMessage msg = new UnixMessage(1024, 1);

        RawPeer(Path path) {
            this.path = path;
            fd = Sockets.socket(Sockets.SOCK_DGRAM);
            Sockets.bind(fd, UnixAddress.of(path));
        }

        void send(Path to, byte[] data) {
            MemorySegment.copy(data, 0, msg.data(), ValueLayout.JAVA_BYTE, 0, data.length);
            msg.send(fd, data.length, UnixAddress.of(to), null, 0, 0);
        }

        /** How many datagrams wait in this socket's queue (reads them). */
        int drain() {
            int n = 0;
            while (msg.receive(fd, UnixMessage.MSG_DONTWAIT) >= 0) {
                msg.closeReceivedFds();
                n++;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            Io.close(fd);
            msg.close();
            Files.deleteIfExists(path);
        }
    }

    private static long counter(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": ([0-9]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return Long.parseLong(m.group(1));
    }

    @Test
    void aPeerThatNeverReadsItsSocketCannotDelayRegistrationOrHandlers() throws Exception {
        Path dir = base.resolve("stall");
        try (Child primary = Child.start(base, "--proc-type", "primary", "--file-prefix", "stall")) {
            assertTrue(primary.started().startsWith("READY primary"));
            primary.send("echo hello");
            primary.send("lcores");
            primary.await("LCORES");
            int requests = 300;
            try (RawPeer stuck = new RawPeer(dir.resolve("mp_socket_" + Proc.getpid() + "_900"))) {
                // registrations of the wrong size: each is answered (refused), and the answers pile up unread
                for (int i = 0; i < requests; i++) {
                    stuck.send(dir.resolve(IpcChannel.PRIMARY_SOCKET), datagram(2, 1 + i, "jnic.mp.register", new byte[3]));
                }
                // another secondary registers and is served at once (each undelivered answer used to hold the
                // primary's handler thread for a second: 300 of them, far past the 10 s registration timeout)
                try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "stall")) {
                    String ready = s.started();
                    assertTrue(ready.startsWith("READY secondary"), ready);
                    s.send("request hello still-served");
                    assertEquals("REPLY 1 1 [still-served@" + primary.pid() + "]", s.await("REPLY"));
                    s.send("ipcstats");
                    String json = s.await("IPCSTATS");
                    long full = counter(json, "peer_queue_full");
                    int delivered = stuck.drain();
                    assertTrue(full > 0, "answers to the stuck socket were dropped, not waited for: " + json);
                    assertEquals(requests, full + delivered, "every answer was either queued or dropped and counted: "
                            + json + ", " + delivered + " queued");
                }
            }
        }
    }

    @Test
    void anUnregisteredSocketIsNotServedStateChangingRequestsAndNothingIsAllocated() throws Exception {
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "unreg")) {
            Path dir = primary.runtimeDir();
            Path to = dir.resolve(IpcChannel.PRIMARY_SOCKET);
            AtomicInteger poked = new AtomicInteger();
            primary.ipc().register("poke", (m, peer) -> poked.incrementAndGet());
            byte[] mb64 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(64L << 20).array();
            try (RawPeer raw = new RawPeer(dir.resolve("mp_socket_" + Proc.getpid() + "_901"));
                    RawPeer liar = new RawPeer(dir.resolve("mp_socket_1_902"))) {
                raw.send(to, datagram(2, 1, "jnic.mp.mem.alloc", mb64)); // hotplug 64 MB
                raw.send(to, datagram(1, 0, "jnic.mp.unregister", new byte[0]));
                raw.send(to, datagram(1, 0, "poke", new byte[0]));
                raw.send(to, datagram(2, 2, "jnic.mp.ipc.stats", new byte[0]));
                raw.send(to, datagram(2, 3, "no.such.action", new byte[0]));
                liar.send(to, datagram(2, 4, "jnic.mp.register", new byte[24])); // socket named for pid 1
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (primary.ipc().stats().unregistered() + primary.ipc().stats().badCredentials() < 6
                        && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                IpcStats st = primary.ipc().stats();
                assertEquals(5, st.unregistered(), st.toString());
                assertEquals(1, st.badCredentials(), st.toString());
                assertEquals(0, st.received(), st.toString());
                assertEquals(0, primary.memory().segmentCount(), "nothing was allocated");
                assertEquals(0, poked.get(), "no handler ran");
                Thread.sleep(100);
                assertEquals(0, raw.drain(), "nothing is answered to a process that is not a member");
                assertEquals(0, liar.drain());
            }
            // a registered secondary is served as before
            try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "unreg")) {
                assertTrue(s.started().startsWith("READY secondary"));
                s.send("grow 1048576");
                assertTrue(s.await("GREW").startsWith("GREW "));
                assertEquals(1, primary.memory().segmentCount());
                s.send("send poke x");
                s.await("SENT");
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (poked.get() == 0 && System.nanoTime() < end) {
                    Thread.sleep(5);
                }
                assertEquals(1, poked.get());
                s.send("ipcstats");
                String json = s.await("IPCSTATS");
                assertEquals(5, counter(json, "unregistered"), json);
                assertEquals(1, counter(json, "bad_credentials"), json);
            }
        }
    }

    private static List<String> files(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> hugepageFiles(String prefix) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/dev/hugepages"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        }
    }

    /** The group's files go to /dev/hugepages: the probe makes one there (root-owned for other users). */
    private static void assumeHugepages(int pages) {
        TestResources.assumeHugepageFiles(pages);
    }

    @Test
    void aGroupThatStopsLeavesNoRuntimeDirSocketOrHugepageFile() throws Exception {
        assumeHugepages(8);
        String prefix = "gone" + Proc.getpid();
        Path dir = base.resolve(prefix);
        BlockingQueue<SecondaryExit> exits = new ArrayBlockingQueue<>(4);
        MpRuntime primary = MpRuntime.start(EalOptions.parse("--file-prefix", prefix, "-m", "2"));
        try {
            primary.onSecondaryExit(exits::add);
            try (Child s1 = Child.start(base, List.of(), false, "--proc-type", "secondary", "--file-prefix", prefix);
                    Child s2 = Child.start(base, List.of(), false, "--proc-type", "secondary", "--file-prefix", prefix)) {
                assertTrue(s1.started().startsWith("READY secondary"));
                assertTrue(s2.started().startsWith("READY secondary"));
                s1.send("grow 2097152"); // a second hugepage segment, added through the primary
                assertTrue(s1.await("GREW").startsWith("GREW "));
                assertFalse(hugepageFiles(prefix).isEmpty(), "the group's memory is in hugepage files");
                List<String> sockets = files(dir).stream().filter(n -> n.startsWith("mp_socket_" + s2.pid() + "_")).toList();
                assertEquals(1, sockets.size(), files(dir).toString());
                s2.process.destroyForcibly(); // SIGKILL: it cannot remove its own socket
                SecondaryExit e = exits.poll(30, TimeUnit.SECONDS);
                assertEquals((int) s2.pid(), e.secondary().pid());
                assertFalse(Files.exists(dir.resolve(sockets.getFirst())), "recovery removed the dead one's socket");
            }
            exits.poll(30, TimeUnit.SECONDS); // s1 left
        } finally {
            primary.close();
        }
        assertFalse(Files.exists(dir), "runtime dir left behind: " + files(dir));
        assertEquals(List.of(), hugepageFiles(prefix), "hugepage files left behind");
        // dpdk/ is DPDK's shared parent of every group's telemetry dir (as /var/run/dpdk): it stays, empty
        assertFalse(Files.exists(base.resolve("dpdk").resolve(prefix)), "telemetry dir left behind");
        assertEquals(List.of(), files(base).stream().filter(n -> !n.equals("dpdk")).toList(), "nothing else in the runtime base");
        assertEquals(List.of(), files(base.resolve("dpdk")), "nothing in dpdk/");
    }

    @Test
    void theLastSecondaryOfAGroupWhosePrimaryEndedRemovesTheFiles() throws Exception {
        Path dir = base.resolve("last");
        try (Child p = Child.start(base, "--proc-type", "primary", "--file-prefix", "last")) {
            assertTrue(p.started().startsWith("READY primary"));
            Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "last");
            assertTrue(s.started().startsWith("READY secondary"));
            s.send("reserve z x"); // memory in the runtime dir (4 KB pages)
            s.await("RESERVED");
            p.send("quit");
            p.await("BYE");
            assertTrue(Files.exists(dir), "the secondary still uses the group");
            s.send("quit");
            s.await("BYE");
            assertTrue(s.process.waitFor(30, TimeUnit.SECONDS));
            s.close();
        }
        assertFalse(Files.exists(dir), "left behind: " + files(dir));
    }

    @Test
    void failedStartsLeaveNothingAndStaleSocketsOfDeadPeersAreRemoved() throws Exception {
        // a secondary without a primary: no dir, no empty lock file
        try (Child lone = Child.start(base, "--proc-type", "secondary", "--file-prefix", "lone")) {
            assertTrue(lone.started().startsWith("ERROR no primary process runs"));
        }
        assertFalse(Files.exists(base.resolve("lone")), "left behind: " + files(base.resolve("lone")));

        // a primary whose memory cannot be made
        MpException e = org.junit.jupiter.api.Assertions.assertThrows(MpException.class,
                () -> MpRuntime.start(EalOptions.parse("--file-prefix", "big", "--huge-dir",
                        Files.createDirectories(base.resolve("not-hugetlbfs")).toString(), "-m", "2")));
        assertTrue(e.getMessage().contains("cannot create the memory"), e.getMessage());
        assertFalse(Files.exists(base.resolve("big")), "left behind: " + files(base.resolve("big")));
        Files.delete(base.resolve("not-hugetlbfs"));

        // stale sockets of dead processes: removed by a starting primary, and by a starting secondary
        Path dir = RuntimeDir.prepare(base.resolve("stale"));
        for (int i = 0; i < 5; i++) {
            Files.createFile(dir.resolve("mp_socket_" + (DEAD_PID + i) + "_1"));
        }
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "stale")) {
            assertEquals(List.of("config", "lock", "mp_socket"), files(dir).stream().filter(n -> !n.endsWith("memconfig"))
                    .toList());
            Files.createFile(dir.resolve("mp_socket_" + DEAD_PID + "_7"));
            int cpu = primary.lcores().isEmpty() ? io.jnic.sys.Sched.getAffinity(0).nextSetBit(0) : -1;
            try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "stale")) {
                assertTrue(s.started().startsWith("READY secondary"));
                assertFalse(Files.exists(dir.resolve("mp_socket_" + DEAD_PID + "_7")), files(dir).toString());
            }
            // a secondary that fails to start (its lcore is taken) removes its socket
            primary.lcoreTable().claimAll(LcoreSet.of(cpu), primary.pid(), "stale");
            try (Child bad = Child.start(base, "--proc-type", "secondary", "--file-prefix", "stale", "-l",
                    String.valueOf(cpu))) {
                assertTrue(bad.started().startsWith("ERROR lcore "));
                assertTrue(bad.process.waitFor(30, TimeUnit.SECONDS));
            }
            assertEquals(List.of("config", "lock", "mp_socket"), files(dir).stream().filter(n -> !n.endsWith("memconfig"))
                    .toList());
        }
        assertFalse(Files.exists(dir), "left behind: " + files(dir));
    }
}
