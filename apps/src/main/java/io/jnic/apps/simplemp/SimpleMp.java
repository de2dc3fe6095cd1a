package io.jnic.apps.simplemp;

import io.jnic.memory.MemoryException;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpException;
import io.jnic.multiproc.MpRuntime;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * DPDK's simple_mp sample: the primary creates two rings (PRI_2_SEC, SEC_2_PRI) and a message pool, a
 * secondary looks them up; each side sends what is typed after {@code send} and prints what it receives.
 * Reads commands from stdin (a terminal or a script); ends on {@code quit} or end of input.
 */
@Command(name = "simple-mp", mixinStandardHelpOptions = true, sortOptions = false, versionProvider = SimpleMp.Version.class,
        description = {"Two processes exchanging strings through shared rings (DPDK's simple_mp).",
            "Start the primary first, then a secondary with --proc-type secondary (or both with auto).",
            "Commands on stdin: send <text>, help, quit."})
public final class SimpleMp implements EalApplication {
    static final String PRI_2_SEC = "PRI_2_SEC";
    static final String SEC_2_PRI = "SEC_2_PRI";
    static final String MSG_POOL = "MSG_POOL";
    static final int RING_SIZE = 64;
    static final int POOL_SIZE = 511;
    static final int POOL_CACHE = 32;
    /** Largest message in bytes (DPDK's STR_TOKEN_SIZE is 128). */
    static final int STRING_SIZE = 128;
    /** The pool id of MSG_POOL in this group's mbuf handles. */
    static final int POOL_ID = 1;

    @Mixin
    EalOptions eal;

    private final PrintStream out;

    public SimpleMp() {
        this(System.out);
    }

    SimpleMp(PrintStream out) {
        this.out = out;
    }

    @Override
    public EalOptions eal() {
        return eal;
    }

    /** -V: the build id every process of a group must share. */
    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"simple-mp, jnic build " + io.jnic.multiproc.BuildId.current()};
        }
    }

    public static void main(String[] args) {
        System.exit(Eal.run(new SimpleMp(), args));
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        try (MpRuntime rt = MpRuntime.start(eal)) {
            Ring send;
            Ring receive;
            Mempool pool;
            if (rt.isPrimary()) {
                send = createRing(rt, PRI_2_SEC);
                receive = createRing(rt, SEC_2_PRI);
                pool = createPool(rt);
            } else {
                send = Ring.attach(lookup(rt, SEC_2_PRI).memory());
                receive = Ring.attach(lookup(rt, PRI_2_SEC).memory());
                pool = Mempool.attach(lookup(rt, MSG_POOL).memory());
            }
            try (pool) {
                say((rt.isPrimary() ? "primary" : "secondary") + " " + rt.pid() + " ready (file prefix '"
                        + rt.filePrefix() + "'); type send <text>, help or quit");
                return run(rt, send, receive, pool);
            }
        } catch (MpException | MemoryException e) {
            System.err.println("simple-mp: " + e.getMessage());
            return 1;
        }
    }

    private int run(MpRuntime rt, Ring send, Ring receive, Mempool pool) throws IOException, InterruptedException {
        Receiver receiver = new Receiver(receive);
        int[] lcores = rt.lcores().ids();
        Thread recv = lcores.length >= 2 ? rt.launch(lcores[1], receiver) : rt.launchFloating("simple-mp-recv", receiver);
        MpRuntime.FloatingLcore floating = null;
        if (lcores.length >= 1) {
            rt.pinCurrentThread(lcores[0]);
        } else {
            floating = rt.attachFloatingThread();
        }
        try {
            prompt(send, pool);
        } finally {
            receiver.running = false;
            recv.join(TimeUnit.SECONDS.toMillis(5));
            if (floating != null) {
                floating.close();
            }
        }
        return 0;
    }

    /** Reads commands until quit or end of input; a prompt only when stdin is a terminal. */
    private void prompt(Ring send, Mempool pool) throws IOException {
        boolean terminal = System.console() != null && System.console().isTerminal();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Mbuf m = new Mbuf();
        for (;;) {
            if (terminal) {
                out.print("simple_mp > ");
                out.flush();
            }
            String line = in.readLine();
            if (line == null) {
                return;
            }
            String cmd = line.strip();
            if (cmd.isEmpty()) {
                continue;
            }
            if (cmd.equals("quit")) {
                return;
            } else if (cmd.equals("help")) {
                say("commands: send <text> (at most " + STRING_SIZE + " bytes) sends text to the other process; "
                        + "quit ends this one");
            } else if (cmd.equals("send") || cmd.startsWith("send ")) {
                String text = cmd.length() > 5 ? cmd.substring(5).strip() : "";
                if (text.isEmpty()) {
                    say("usage: send <text>");
                } else {
                    send(send, pool, m, text);
                }
            } else {
                say("unknown command '" + cmd + "'; try help");
            }
        }
    }

    private void send(Ring ring, Mempool pool, Mbuf m, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length > STRING_SIZE) {
            say("message of " + b.length + " bytes is too long: at most " + STRING_SIZE);
            return;
        }
        long h = pool.alloc(MpRuntime.currentLcore());
        if (h == Mbuf.NULL) {
            say("cannot send: the message pool is empty (is the other process reading?)");
            return;
        }
        m.wrap(h).append(b.length);
        m.write(0, b, 0, b.length);
        if (!ring.enqueue(h)) {
            Mempool.free(h, MpRuntime.currentLcore());
            say("cannot send: ring " + ring.name() + " is full (is the other process running?)");
            return;
        }
        say("sent '" + text + "'");
    }

    /** Polls the receive ring and prints each message (DPDK's lcore_recv). */
    private final class Receiver implements Runnable {
        private final Ring ring;
        volatile boolean running = true;

        Receiver(Ring ring) {
            this.ring = ring;
        }

        @Override
        public void run() {
            Mbuf m = new Mbuf();
            byte[] buf = new byte[STRING_SIZE];
            int lcore = MpRuntime.currentLcore();
            while (running) {
                long h = ring.dequeue(Mbuf.NULL);
                if (h == Mbuf.NULL) {
                    LockSupport.parkNanos(200_000); // two cores shared by many: do not spin
                    continue;
                }
                int len;
                try {
                    m.wrap(h);
                    len = Math.min(m.dataLen(), STRING_SIZE);
                    m.read(0, buf, 0, len);
                } catch (RuntimeException e) {
                    say("dropped a bad message handle: " + e.getMessage());
                    continue;
                }
                Mempool.free(h, lcore);
                say("lcore " + lcore + ": received '" + new String(buf, 0, len, StandardCharsets.UTF_8) + "'");
            }
        }
    }

    private synchronized void say(String line) {
        out.println(line);
        out.flush();
    }

    private static Ring createRing(MpRuntime rt, String name) {
        Memzone z = rt.reserve(name, Ring.bytesNeeded(RING_SIZE));
        return Ring.create(z.memory(), name, RING_SIZE, 0);
    }

    private static Mempool createPool(MpRuntime rt) {
        long page = rt.memory().pageSize().bytes();
        MempoolConfig c = MempoolConfig.of(MSG_POOL, POOL_ID, POOL_SIZE).withCacheSize(POOL_CACHE).withDataRoom(STRING_SIZE)
                .withHeadroom(0);
        Memzone z = rt.reserve(MSG_POOL, Mempool.bytesNeeded(c, page), page);
        return Mempool.create(z.memory(), c, z::iova, page);
    }

    private static Memzone lookup(MpRuntime rt, String name) {
        try {
            return rt.lookup(name);
        } catch (RuntimeException e) {
            throw new MpException("the primary has not created '" + name + "' (is it simple-mp too?): " + e.getMessage(), e);
        }
    }
}
