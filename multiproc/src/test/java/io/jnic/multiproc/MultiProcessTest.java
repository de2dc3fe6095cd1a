package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.memory.MemoryGroup;
import io.jnic.memory.SegmentState;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.sys.Sched;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real processes: this JVM and child JVMs ({@link MpChild}) forming groups. */
@Timeout(120)
class MultiProcessTest {
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

    private static String text(IpcMessage m) {
        return new String(m.param(), StandardCharsets.UTF_8);
    }

    private static IpcMessage text(String name, String s) {
        return new IpcMessage(name, s.getBytes(StandardCharsets.UTF_8));
    }

    private static String readFd(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            long n = Io.pread(fd, s, 64, 0);
            return new String(s.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    @Test
    void aPrimaryAndTwoSecondariesOneViaAutoExchangeMessagesRequestsAndDescriptors() throws Exception {
        BlockingQueue<String> atPrimary = new ArrayBlockingQueue<>(16);
        BlockingQueue<String> exits = new ArrayBlockingQueue<>(4);
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "g")) {
            int me = primary.pid();
            primary.onSecondaryExit(e -> exits.add(e.secondary().pid() + (e.detached() ? " detached" : " ended")));
            primary.ipc().register("hello", (m, peer) -> {
                if (peer.isRequest()) {
                    primary.ipc().reply(peer, text("hello", text(m) + "@" + me));
                } else {
                    atPrimary.add(text(m) + " from " + peer.pid());
                }
            });
            primary.ipc().register("pfd", (m, peer) -> {
                int fd = Mman.memfdCreate("primary", Mman.MFD_CLOEXEC);
                try (Arena a = Arena.ofConfined()) {
                    byte[] b = "primary-fd".getBytes(StandardCharsets.UTF_8);
                    MemorySegment s = a.allocate(b.length);
                    MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
                    Io.pwrite(fd, s, b.length, 0);
                }
                primary.ipc().reply(peer, new IpcMessage("pfd", new byte[0], fd));
                Io.close(fd);
            });
            try (Child s1 = Child.start(base, "--proc-type", "secondary", "--file-prefix", "g");
                    Child s2 = Child.start(base, "--proc-type", "auto", "--file-prefix", "g")) {
                String r1 = s1.started();
                String r2 = s2.started();
                assertTrue(r1.startsWith("READY secondary " + s1.pid()), r1);
                assertTrue(r2.startsWith("READY secondary " + s2.pid()), "auto became a secondary: " + r2);
                assertEquals(Set.of(1, 2), Set.of(Integer.parseInt(r1.split(" ")[3]), Integer.parseInt(r2.split(" ")[3])),
                        "proc ids 1 and 2");
                assertEquals(Set.of((int) s1.pid(), (int) s2.pid()),
                        Set.copyOf(primary.secondaries().stream().map(SecondaryInfo::pid).toList()));

                // secondary -> primary, one way
                s1.send("send hello one");
                assertEquals("SENT 1", s1.await("SENT"));
                assertEquals("one from " + s1.pid(), atPrimary.poll(30, TimeUnit.SECONDS));

                // primary -> every secondary
                s1.send("echo bc");
                s2.send("echo bc");
                s1.send("fdserve fd");
                s2.send("fdserve fd");
                s1.send("lcores"); // a round trip: the handlers above are registered once it answers
                s2.send("lcores");
                s1.await("LCORES");
                s2.await("LCORES");
                assertEquals(2, primary.ipc().sendMessage(text("bc", "all")));
                assertEquals("GOT bc all " + me, s1.await("GOT"));
                assertEquals("GOT bc all " + me, s2.await("GOT"));

                // sync requests both ways, with descriptors
                s2.send("request hello x");
                assertEquals("REPLY 1 1 [x@" + me + "]", s2.await("REPLY"));
                s1.send("fdrequest pfd");
                assertEquals("FDREPLY 1 1 [primary-fd]", s1.await("FDREPLY"), "the secondary read through the primary's fd");
                IpcReply r = primary.ipc().requestSync(new IpcMessage("fd"), Duration.ofSeconds(30));
                assertEquals(2, r.nbSent());
                assertEquals(2, r.nbReceived());
                assertEquals(List.of("fd-from-" + s1.pid(), "fd-from-" + s2.pid()),
                        r.messages().stream().map(m -> readFd(m.fd(0))).sorted().toList());
                r.closeFds();

                // async requests: broadcast from the primary, and from a secondary
                BlockingQueue<IpcReply> async = new ArrayBlockingQueue<>(2);
                primary.ipc().requestAsync(text("bc", "q"), Duration.ofSeconds(30), async::add);
                IpcReply ar = async.poll(30, TimeUnit.SECONDS);
                assertEquals(2, ar.nbReceived());
                assertEquals(List.of("q@" + s1.pid(), "q@" + s2.pid()), ar.messages().stream().map(MultiProcessTest::text).sorted().toList());
                s2.send("async hello y");
                assertEquals("ASYNC 1 1 [y@" + me + "]", s2.await("ASYNC"));
            }
            // both quit: they told the primary
            assertEquals(Set.of(s(exits.poll(30, TimeUnit.SECONDS)), s(exits.poll(30, TimeUnit.SECONDS))).size(), 2);
            assertTrue(primary.secondaries().isEmpty());
            assertEquals(0, primary.ipc().stats().dropped());
        }
    }

    private static String s(String line) {
        assertTrue(line != null && line.endsWith(" detached"), String.valueOf(line));
        return line;
    }

    @Test
    void aKilledSecondaryIsReportedAndItsLcoresAreFree() throws Exception {
        int cpu = Sched.getAffinity(0).nextSetBit(0);
        BlockingQueue<SecondaryExit> exits = new ArrayBlockingQueue<>(4);
        BlockingQueue<Long> seenAt = new ArrayBlockingQueue<>(4);
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "kill")) {
            primary.onSecondaryExit(e -> {
                seenAt.add(System.nanoTime());
                exits.add(e);
            });
            try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "kill", "-l", String.valueOf(cpu))) {
                assertTrue(s.started().startsWith("READY secondary"));
                assertEquals((int) s.pid(), primary.lcoreTable().holder(cpu));
                long killedAt = System.nanoTime();
                s.process.destroyForcibly(); // SIGKILL: no goodbye
                SecondaryExit e = exits.poll(30, TimeUnit.SECONDS);
                long latencyMicros = (seenAt.take() - killedAt) / 1000;
                System.out.println("exit callback " + latencyMicros + " us after kill -9");
                assertEquals((int) s.pid(), e.secondary().pid());
                assertEquals(LcoreSet.of(cpu), e.released());
                assertTrue(!e.detached());
                assertEquals(0, primary.lcoreTable().holder(cpu), "its lcore is free again");
                assertTrue(primary.secondaries().isEmpty());
            }
        }
    }

    @Test
    void twoPrefixesSideBySideDoNotSeeEachOther() throws Exception {
        BlockingQueue<String> atA = new ArrayBlockingQueue<>(4);
        BlockingQueue<String> atB = new ArrayBlockingQueue<>(4);
        try (MpRuntime a = MpRuntimeTest.start("--file-prefix", "a");
                MpRuntime b = MpRuntimeTest.start("--file-prefix", "b");
                Child sa = Child.start(base, "--proc-type", "secondary", "--file-prefix", "a")) {
            a.ipc().register("x", (m, p) -> atA.add(text(m)));
            b.ipc().register("x", (m, p) -> atB.add(text(m)));
            assertTrue(sa.started().startsWith("READY secondary"));
            sa.send("echo bc");
            sa.send("lcores");
            sa.await("LCORES");
            assertEquals(1, a.ipc().sendMessage(text("bc", "for-a")));
            assertEquals(0, b.ipc().sendMessage(text("bc", "for-b")), "b has no secondary");
            assertEquals("GOT bc for-a " + a.pid(), sa.await("GOT"));
            sa.send("send x hi");
            assertEquals("SENT 1", sa.await("SENT"));
            assertEquals("hi", atA.poll(30, TimeUnit.SECONDS));
            assertEquals(1, a.secondaries().size());
            assertTrue(b.secondaries().isEmpty());
            assertTrue(atB.isEmpty());
        }
    }

    @Test
    void badStartsTellTheUserWhatIsWrong() throws Exception {
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "bad", "-l",
                String.valueOf(Sched.getAffinity(0).nextSetBit(0)))) {
            int me = primary.pid();
            int cpu = primary.lcores().first();
            try (Child second = Child.start(base, "--proc-type", "primary", "--file-prefix", "bad");
                    Child overlap = Child.start(base, "--proc-type", "secondary", "--file-prefix", "bad", "-l", String.valueOf(cpu));
                    Child build = Child.start(base, List.of("-D" + BuildId.OVERRIDE_PROPERTY + "=other-build"),
                            "--proc-type", "secondary", "--file-prefix", "bad");
                    Child type = Child.start(base, "--proc-type", "master", "--file-prefix", "bad")) {
                assertEquals("ERROR a primary process (pid " + me + ") already runs for file prefix 'bad' in "
                        + base.resolve("bad") + "; start this one with --proc-type secondary or auto, or pick another "
                        + "--file-prefix", second.started());
                assertEquals("ERROR lcore " + cpu + " is already used by process " + me + " (file prefix 'bad'); give "
                        + "this process other lcores with -l, or stop process " + me, overlap.started());
                assertEquals("ERROR this process is build 'other-build' but the primary (pid " + me + ") is build '"
                        + BuildId.current() + "'; run the same jnic build in every process of a file prefix", build.started());
                assertEquals("ERROR Invalid value for option '--proc-type': unknown process type 'master': expected "
                        + "primary, secondary or auto", type.started());
                for (Child c : List.of(second, overlap, build, type)) {
                    assertTrue(c.process.waitFor(30, TimeUnit.SECONDS));
                    assertEquals(1, c.process.exitValue());
                }
            }
            assertTrue(primary.secondaries().isEmpty(), "none of them registered");
        }
    }

    @Test
    void secondariesLearnThatThePrimaryDiedAndKeepANewPrimaryOut() throws Exception {
        try (Child p = Child.start(base, "--proc-type", "primary", "--file-prefix", "orphan")) {
            assertTrue(p.started().startsWith("READY primary"));
            try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "orphan")) {
                assertTrue(s.started().startsWith("READY secondary"));
                p.process.destroyForcibly();
                assertEquals("PRIMARY-GONE", s.await("PRIMARY-GONE"));
                MpException e = org.junit.jupiter.api.Assertions.assertThrows(MpException.class,
                        () -> MpRuntimeTest.start("--file-prefix", "orphan"));
                assertEquals("secondary processes [" + s.pid() + "] of an earlier primary of file prefix 'orphan' still "
                        + "use " + base.resolve("orphan") + " (its memory is theirs; a new primary would reinitialise it); "
                        + "stop them before starting a new primary, or use another --file-prefix", e.getMessage());
            }
            // the secondary has gone: the dead primary's files are cleaned up and a new group starts
            try (MpRuntime fresh = MpRuntimeTest.start("--file-prefix", "orphan")) {
                assertTrue(fresh.isPrimary());
            }
        }
    }

    @Test
    void aSecondaryJoinsTheOrphansOfADeadPrimaryAndANewPrimaryNamesThem() throws Exception {
        Path dir = base.resolve("orph");
        try (Child p = Child.start(base, "--proc-type", "primary", "--file-prefix", "orph")) {
            assertTrue(p.started().startsWith("READY primary"));
            try (Child s1 = Child.start(base, "--proc-type", "secondary", "--file-prefix", "orph")) {
                assertTrue(s1.started().startsWith("READY secondary"));
                s1.send("reserve zone made-before");
                s1.await("RESERVED");
                p.send("stall");
                p.send("echo ping");
                p.send("lcores");
                p.await("LCORES"); // both handlers are in place
                s1.send("send stall now"); // the primary's handler thread sleeps: nothing it gets is answered
                s1.await("SENT");
                s1.send("slowrequest ping waiting"); // waits up to 120 s, longer than await() does
                Thread.sleep(200); // (sent by then; had it not been, it would end at once with nothing sent)
                p.process.destroyForcibly();
                String reply = s1.await("REPLY");
                assertTrue(reply.matches("REPLY [01] 0 \\[\\]"), "the waiting request ends when the primary does: " + reply);
                if (!s1.seen().contains("PRIMARY-GONE")) {
                    s1.await("PRIMARY-GONE");
                }
                // a secondary whose primary died: IPC to it fails at once, saying why
                long t0 = System.nanoTime();
                s1.send("request any hello");
                assertEquals("FAILED IPC 'any' to the primary: the primary (pid " + p.pid() + ") of file prefix 'orph' "
                        + "has ended", s1.await("FAILED"));
                System.out.printf("IPC request without a primary failed after %d us%n", (System.nanoTime() - t0) / 1000);
                try (Child s2 = Child.start(base, "--proc-type", "secondary", "--file-prefix", "orph")) {
                    assertEquals("READY secondary " + s2.pid() + " -1", s2.started(), "joined in orphan mode");
                    s2.send("read zone");
                    assertEquals("READ made-before", s2.await("READ"), "the orphans' memory is shared with it");
                    s2.send("request any hello");
                    assertEquals("FAILED IPC 'any' to the primary: no primary runs for file prefix 'orph' (pid " + p.pid()
                            + " ended; this process joined its secondaries [" + s1.pid() + "] in orphan mode)",
                            s2.await("FAILED"));
                    s2.send("grow 2097152");
                    assertTrue(s2.await("FAILED").startsWith("FAILED "), "no hotplug without a primary");
                    List<Long> both = new java.util.ArrayList<>(List.of(s1.pid(), s2.pid()));
                    both.sort(null);
                    MpException e = org.junit.jupiter.api.Assertions.assertThrows(MpException.class,
                            () -> MpRuntimeTest.start("--file-prefix", "orph"));
                    assertEquals("secondary processes " + both + " of an earlier primary of file prefix 'orph' still use "
                            + dir + " (its memory is theirs; a new primary would reinitialise it); stop them before "
                            + "starting a new primary, or use another --file-prefix", e.getMessage());
                    s2.send("read zone");
                    assertEquals("READ made-before", s2.await("READ"), "the refused primary touched nothing");
                }
            }
        }
        // nobody holds the group any more: a secondary gets today's answer
        try (Child late = Child.start(base, "--proc-type", "secondary", "--file-prefix", "orph")) {
            assertEquals("ERROR no primary process runs for file prefix 'orph' (looked in " + dir + "); start a primary "
                    + "first (--proc-type primary or auto) with the same --file-prefix", late.started());
        }
    }

    @Test
    void memzonesMadeByAnyProcessAreSeenByAllAndMemoryGrowsThroughThePrimary() throws Exception {
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "mem");
                Child s1 = Child.start(base, "--proc-type", "secondary", "--file-prefix", "mem");
                Child s2 = Child.start(base, "--proc-type", "secondary", "--file-prefix", "mem")) {
            assertTrue(s1.started().startsWith("READY"));
            assertTrue(s2.started().startsWith("READY"));
            assertEquals(0, primary.memory().segmentCount(), "no -m: the group starts without memory");

            // a secondary reserves: no segment has room, so it asks the primary, which adds one everybody maps
            s1.send("reserve from-s1 hello-from-a-secondary");
            String reserved = s1.await("RESERVED");
            int seg = Integer.parseInt(reserved.split(" ")[1]);
            assertEquals(1, primary.memory().segmentCount());
            assertTrue(primary.memory().segments().stream().anyMatch(x -> x.id() == seg), "mapped in the primary");
            s2.send("segments");
            assertEquals("SEGMENTS [" + seg + "]", s2.await("SEGMENTS"), "mapped in the other secondary before it was used");
            assertEquals("hello-from-a-secondary", primary.lookup("from-s1").memory().getString(0));
            s2.send("read from-s1");
            assertEquals("READ hello-from-a-secondary", s2.await("READ"));

            // the primary's own memzone, read by a secondary
            byte[] text = "from-the-primary".getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(text, 0, primary.reserve("from-p", 64).memory(), ValueLayout.JAVA_BYTE, 0, text.length);
            s1.send("read from-p");
            assertEquals("READ from-the-primary", s1.await("READ"));

            // explicit growth from a secondary
            s2.send("grow 1048576");
            String grew = s2.await("GREW");
            int id = Integer.parseInt(grew.split(" ")[1]);
            assertEquals(2, primary.memory().segmentCount());
            s1.send("segments");
            assertTrue(s1.await("SEGMENTS").contains(String.valueOf(id)));
        }
    }

    @Test
    void aHotplugThatASecondaryCannotFollowFailsWithTheReason() throws Exception {
        System.setProperty(MpRuntime.HOTPLUG_TIMEOUT_PROPERTY, "1000");
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "plug");
                Child asker = Child.start(base, "--proc-type", "secondary", "--file-prefix", "plug");
                Child stuck = Child.start(base, "--proc-type", "secondary", "--file-prefix", "plug")) {
            assertTrue(asker.started().startsWith("READY"));
            assertTrue(stuck.started().startsWith("READY"));
            stuck.send("stall");
            stuck.send("lcores");
            stuck.await("LCORES");
            primary.ipc().sendMessage(new IpcMessage("stall")); // its handler thread now sleeps for 60 s
            asker.send("grow 1048576");
            String failed = asker.await("FAILED");
            assertTrue(failed.startsWith("FAILED the primary could not add memory: memory hotplug of segment 0 "), failed);
            assertTrue(failed.contains("1 of 2 secondaries did not answer within 1000 ms"), failed);

            // rolled back: retired in the shared table, unmapped and unlinked; the asker, which had mapped it, dropped it
            assertTrue(failed.contains(". Rolled back: segment 0 is retired, 1 secondary(ies) dropped their mapping of"
                    + " it; detaching it: 1 of 2 secondaries did not answer within 1000 ms"), failed);
            MemoryGroup mem = primary.memory();
            assertEquals(1, mem.segmentCount());
            assertEquals(SegmentState.RETIRED, mem.segmentState(0));
            assertEquals(List.of(), mem.segments());
            Path dataDir = mem.config().dataDir();
            try (var files = Files.list(dataDir)) {
                assertEquals(List.of(), files.filter(f -> f.getFileName().toString().contains("map_")).toList(),
                        "no segment file left in " + dataDir);
            }
            asker.send("segments");
            assertEquals("SEGMENTS []", asker.await("SEGMENTS"));
            assertEquals(List.of(), Files.readAllLines(Path.of("/proc/" + asker.process.pid() + "/maps")).stream()
                    .filter(l -> l.contains("map_0")).toList(), "the asker unmapped it");

            // without the stuck secondary, the next hotplug succeeds, with a new id
            stuck.process.destroyForcibly();
            stuck.process.waitFor();
            asker.send("grow 1048576");
            assertEquals("GREW 1 1048576", asker.await("GREW"));
            assertEquals(SegmentState.LIVE, mem.segmentState(1), "committed");
            assertTrue(mem.segments().stream().anyMatch(x -> x.id() == 1));
            asker.send("segments");
            assertEquals("SEGMENTS [1]", asker.await("SEGMENTS"));
        } finally {
            System.clearProperty(MpRuntime.HOTPLUG_TIMEOUT_PROPERTY);
        }
    }

    @Test
    void aPrimaryUnderAFloodOfGarbageKeepsServingItsSecondaries() throws Exception {
        java.util.Random random = new java.util.Random(7);
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "flood");
                io.jnic.sys.UnixMessage raw = new io.jnic.sys.UnixMessage(1024, 1)) {
            primary.ipc().register("hello", (m, peer) -> primary.ipc().reply(peer, text("hello", text(m) + "@" + primary.pid())));
            int sock = io.jnic.sys.Sockets.socket(io.jnic.sys.Sockets.SOCK_DGRAM);
            io.jnic.sys.UnixAddress to = io.jnic.sys.UnixAddress.of(primary.ipc().socketPath());
            try {
                io.jnic.sys.Sockets.bind(sock, io.jnic.sys.UnixAddress.of(base.resolve("flood").resolve("mp_socket_1_99")));
                for (int i = 0; i < 2000; i++) {
                    int n = random.nextInt(i % 2 == 0 ? 90 : 400); // short ones are truncated headers
                    for (int k = 0; k < n; k++) {
                        raw.data().set(ValueLayout.JAVA_BYTE, k, (byte) random.nextInt());
                    }
                    raw.send(sock, n, to, null, 0, 0);
                }
            } finally {
                Io.close(sock);
                java.nio.file.Files.deleteIfExists(base.resolve("flood").resolve("mp_socket_1_99"));
            }
            try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "flood")) {
                assertTrue(s.started().startsWith("READY secondary"), "a secondary still registers");
                s.send("request hello still-there");
                assertEquals("REPLY 1 1 [still-there@" + primary.pid() + "]", s.await("REPLY"));
            }
            assertEquals(2000, primary.ipc().stats().malformed() + primary.ipc().stats().truncated(),
                    primary.ipc().stats().toString());
        }
    }

    @Test
    void aKilledSecondarysMempoolCacheGoesBackToThePool() throws Exception {
        BlockingQueue<SecondaryExit> exits = new ArrayBlockingQueue<>(2);
        int lcoreOfDead;
        try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "cache")) {
            primary.onSecondaryExit(exits::add);
            long page = primary.memory().pageSize().bytes();
            io.jnic.memory.mbuf.MempoolConfig c = io.jnic.memory.mbuf.MempoolConfig.of("cache-pool", 7, 256)
                    .withCacheSize(32).withDataRoom(256);
            io.jnic.memory.Memzone z = primary.reserve("cache-pool", io.jnic.memory.mbuf.Mempool.bytesNeeded(c, page), page);
            io.jnic.memory.mbuf.Mempool created = io.jnic.memory.mbuf.Mempool.create(z.memory(), c, z::iova, page);
            created.close(); // the primary's reclaimer finds the pool by its memzone, attached or not
            try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "cache")) {
                assertTrue(s.started().startsWith("READY"));
                s.send("poolcache cache-pool 10"); // fewer than the cache size: served through the cache
                String[] cached = s.await("CACHED").split(" ");
                int lcore = Integer.parseInt(cached[1]);
                lcoreOfDead = lcore;
                int inCache = Integer.parseInt(cached[2]);
                assertTrue(inCache > 0, "objects sit in the secondary's lcore cache: " + inCache);
                assertEquals((int) s.pid(), primary.lcoreTable().holder(lcore), "a floating lcore of the secondary");
                s.process.destroyForcibly();
                SecondaryExit e = exits.poll(30, TimeUnit.SECONDS);
                assertTrue(e.released().contains(lcore), e.toString());
            }
            // the reclaimer attached the pool only to recover it; look at it from here
            io.jnic.memory.mbuf.Mempool pool = io.jnic.memory.mbuf.Mempool.attach(primary.lookup("cache-pool").memory());
            assertEquals(0, pool.cacheCount(lcoreOfDead), "the dead lcore's cache is empty");
            assertEquals(256, pool.availableCount(), "every mbuf is back: none were lost in the dead cache");
            pool.close();
        }
    }
}
