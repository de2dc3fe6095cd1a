package io.jnic.multiproc;

import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcReply;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A process of a test group, driven line by line on stdin; it answers on stdout. Started by
 * {@link Child} with runtime options as arguments. Prints {@code READY <type> <pid> <procId>} once
 * attached, or {@code ERROR <message>} and exits 1.
 *
 * <pre>
 * echo NAME                   handle NAME: print "GOT NAME text pid" for messages, reply "text@pid" to requests
 * fdserve NAME                handle NAME requests: reply with a memfd holding "fd-from-pid"
 * send NAME TEXT              one-way message; prints "SENT n"
 * request NAME TEXT           sync request; prints "REPLY sent received [texts]"
 * slowrequest NAME TEXT       the same with a 120 s timeout (longer than any test waits)
 * fdrequest NAME              sync request; reads each reply's fd; prints "FDREPLY sent received [contents]"
 * async NAME TEXT             async request; the callback prints "ASYNC sent received [texts]"
 * lcores                      prints "LCORES list"
 * reserve NAME TEXT           reserves memzone NAME (64 bytes) holding TEXT; prints "RESERVED segment-id"
 * read NAME                   looks memzone NAME up; prints "READ text"
 * grow BYTES                  adds memory to the group; prints "GREW segment-id size"
 * segments                    prints "SEGMENTS [ids mapped here]"
 * stall                       handles "stall" messages by blocking the handler thread for 60 s
 * ipcstats                    prints "IPCSTATS summary" of the primary's IPC counters (asked over IPC by a secondary)
 * poolcache NAME N            on a floating lcore: attaches mempool NAME, allocs and frees N mbufs (they stay
 *                             in this lcore's cache); prints "CACHED lcore count"
 * quit                        leaves the group and exits
 * </pre>
 */
public final class MpChild {
    private MpChild() {
    }

    static synchronized void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        MpRuntime rt;
        try {
            rt = MpRuntime.start(EalOptions.parse(args));
        } catch (RuntimeException e) {
            out("ERROR " + e.getMessage());
            System.exit(1);
            return;
        }
        if (!rt.isPrimary()) {
            rt.onPrimaryExit(() -> out("PRIMARY-GONE"));
        } else {
            rt.onSecondaryExit(e -> out("EXIT " + e.secondary().pid() + " " + e.released()));
        }
        out("READY " + rt.procType().optionName() + " " + rt.pid() + " " + rt.procId());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.strip().split(" ", 3);
            try {
                switch (w[0]) {
                    case "echo" -> rt.ipc().register(w[1], (m, peer) -> {
                        String text = text(m);
                        if (peer.isRequest()) {
                            rt.ipc().reply(peer, new IpcMessage(m.name(), (text + "@" + rt.pid()).getBytes(StandardCharsets.UTF_8)));
                        } else {
                            out("GOT " + m.name() + " " + text + " " + peer.pid());
                        }
                    });
                    case "fdserve" -> rt.ipc().register(w[1], (m, peer) -> {
                        int fd = Mman.memfdCreate("child", Mman.MFD_CLOEXEC);
                        byte[] b = ("fd-from-" + rt.pid()).getBytes(StandardCharsets.UTF_8);
                        try (Arena a = Arena.ofConfined()) {
                            MemorySegment s = a.allocate(b.length);
                            MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
                            Io.pwrite(fd, s, b.length, 0);
                        }
                        rt.ipc().reply(peer, new IpcMessage(m.name(), new byte[0], fd));
                        Io.close(fd);
                    });
                    case "send" -> out("SENT " + rt.ipc().sendMessage(new IpcMessage(w[1], w[2].getBytes(StandardCharsets.UTF_8))));
                    case "request" -> out("REPLY " + describe(rt.ipc().requestSync(
                            new IpcMessage(w[1], w[2].getBytes(StandardCharsets.UTF_8)), Duration.ofSeconds(10))));
                    case "slowrequest" -> out("REPLY " + describe(rt.ipc().requestSync(
                            new IpcMessage(w[1], w[2].getBytes(StandardCharsets.UTF_8)), Duration.ofSeconds(120))));
                    case "fdrequest" -> {
                        IpcReply r = rt.ipc().requestSync(new IpcMessage(w[1]), Duration.ofSeconds(10));
                        List<String> contents = r.messages().stream().map(MpChild::readFd).sorted().toList();
                        r.closeFds();
                        out("FDREPLY " + r.nbSent() + " " + r.nbReceived() + " " + contents);
                    }
                    case "async" -> rt.ipc().requestAsync(new IpcMessage(w[1], w[2].getBytes(StandardCharsets.UTF_8)),
                            Duration.ofSeconds(10), r -> out("ASYNC " + describe(r)));
                    case "lcores" -> out("LCORES " + rt.lcores());
                    case "reserve" -> {
                        var z = rt.reserve(w[1], 64);
                        byte[] b = w[2].getBytes(StandardCharsets.UTF_8);
                        MemorySegment.copy(b, 0, z.memory(), ValueLayout.JAVA_BYTE, 0, b.length);
                        out("RESERVED " + z.segmentId());
                    }
                    case "read" -> {
                        MemorySegment z = rt.lookup(w[1]).memory();
                        out("READ " + z.getString(0));
                    }
                    case "grow" -> {
                        var seg = rt.addMemory(Long.parseLong(w[1]));
                        out("GREW " + seg.id() + " " + seg.size());
                    }
                    case "segments" -> out("SEGMENTS " + rt.memory().segments().stream().map(x -> x.id()).toList());
                    case "poolcache" -> {
                        if (MpRuntime.currentLcore() < 0) {
                            rt.attachFloatingThread();
                        }
                        int lcore = MpRuntime.currentLcore();
                        var pool = io.jnic.memory.mbuf.Mempool.attach(rt.lookup(w[1]).memory());
                        long[] h = new long[Integer.parseInt(w[2])];
                        if (!pool.allocBulk(h, 0, h.length, lcore)) {
                            throw new IllegalStateException("pool empty");
                        }
                        io.jnic.memory.mbuf.Mempool.freeBulk(h, 0, h.length, lcore);
                        out("CACHED " + lcore + " " + pool.cacheCount(lcore));
                    }
                    case "stall" -> rt.ipc().register("stall", (m, peer) -> {
                        try {
                            Thread.sleep(60_000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    case "ipcstats" -> out("IPCSTATS " + rt.primaryIpcStats().toJson());
                    case "quit" -> {
                        rt.close();
                        out("BYE");
                        System.exit(0);
                    }
                    default -> out("UNKNOWN " + line);
                }
            } catch (RuntimeException e) {
                out("FAILED " + e.getMessage());
            }
        }
        rt.close();
    }

    static String text(IpcMessage m) {
        return new String(m.param(), StandardCharsets.UTF_8);
    }

    static String describe(IpcReply r) {
        return r.nbSent() + " " + r.nbReceived() + " "
                + r.messages().stream().map(MpChild::text).sorted().collect(Collectors.toList());
    }

    static String readFd(IpcMessage m) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64);
            long n = Io.pread(m.fd(0), s, 64, 0);
            return new String(s.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }
}
