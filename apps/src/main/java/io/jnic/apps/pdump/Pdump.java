package io.jnic.apps.pdump;

import io.jnic.apps.common.AppArgs;
import io.jnic.apps.common.GracefulExit;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.Eal;
import io.jnic.multiproc.EalApplication;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.multiproc.ProcType;
import io.jnic.mp.ethdev.pdump.CaptureRecord;
import io.jnic.mp.ethdev.pdump.PdumpControl;
import io.jnic.mp.ethdev.pdump.PdumpService;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * pdump: DPDK's dpdk-pdump/dpdk-dumpcap for a running jnic group. Joins it as a secondary, creates (or reuses) the
 * capture ring and pool in shared memory, asks the primary over IPC ({@value PdumpService#ACTION}) to mirror the
 * chosen ports, queues and directions into them, and writes what arrives as pcapng (nanosecond timestamps, the
 * direction and queue of every frame) until the count, the duration or Ctrl-C; then it switches the capture off.
 * The forwarding processes copy frames into the capture pool's mbufs: the data path keeps its own.
 */
@Command(name = "pdump", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Captures the packets of a running jnic group to a pcapng file (as dpdk-dumpcap)."},
        footer = {"", "Examples:", "  pdump --file-prefix jnic -- -w /tmp/cap.pcapng -c 1000",
            "  pdump -- -i 0 --queue 1 --dir rx -w rx0.pcapng --duration 10 -s 128"})
public final class Pdump implements EalApplication {
    /** Capture mbufs: room for the record header and a standard frame (longer frames are cut; their length is kept). */
    static final int DATA_ROOM = CaptureRecord.HEADER + 2048;
    static final int POOL_SIZE = 8191;
    static final int RING_SIZE = 8192;
    static final int CONTROL_WAIT_S = 30;
    private static final System.Logger LOG = System.getLogger(Pdump.class.getName());

    @Mixin
    EalOptions eal = new EalOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    final AppOptions app = new AppOptions();
    private final PrintStream out;
    private final PrintStream err;
    private volatile boolean running = true;

    /** The options after {@code --}. */
    @Command(name = "pdump-options")
    static final class AppOptions {
        @Option(names = {"-i", "--interface"}, paramLabel = "PORT", split = ",",
                description = "Port id(s) to capture (repeatable or comma separated; default: every started port).")
        List<Integer> ports = new ArrayList<>();

        @Option(names = "--queue", paramLabel = "LIST|*", defaultValue = "*",
                description = "Queue ids, comma separated, or * for all (default: ${DEFAULT-VALUE}).")
        String queues;

        @Option(names = "--dir", paramLabel = "rx|tx|both", defaultValue = "both",
                description = "Direction(s) to capture (default: ${DEFAULT-VALUE}).")
        String dir;

        @Option(names = {"-w", "--write"}, paramLabel = "FILE", required = true, description = "The pcapng file to write.")
        Path file;

        @Option(names = {"-s", "--snaplen"}, paramLabel = "N", defaultValue = "262144",
                description = "Bytes to keep of each frame (default: ${DEFAULT-VALUE}, as dumpcap; the capture buffers "
                        + "hold 2048: longer frames are cut, their length kept).")
        int snaplen;

        @Option(names = {"-c", "--count"}, paramLabel = "N", defaultValue = "0",
                description = "Stop after N packets (0: no limit).")
        long count;

        @Option(names = "--duration", paramLabel = "S", defaultValue = "0",
                description = "Stop after S seconds (0: until Ctrl-C or the count).")
        int duration;
    }

    public Pdump(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public EalOptions eal() {
        return eal;
    }

    @Override
    public Object appOptions() {
        return app;
    }

    public static void main(String[] args) {
        System.exit(run(System.out, System.err, args));
    }

    /** Runs pdump (always a secondary); returns the exit code. */
    public static int run(PrintStream out, PrintStream err, String... args) {
        String[] a = AppArgs.prepare("pdump", new Pdump(err, err), new AppOptions(), List.of(),
                AppArgs.secondaryByDefault(args), err);
        return Eal.run(new Pdump(out, err), out, err, a);
    }

    private CommandLine.ParameterException bad(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    @Override
    public Integer call() throws Exception {
        AppOptions o = app;
        if (eal.procType() != ProcType.SECONDARY) {
            throw bad("pdump joins a running group as a secondary (--proc-type secondary); it cannot be its primary");
        }
        int dirs = switch (o.dir) {
            case "rx" -> PdumpService.DIR_RX;
            case "tx" -> PdumpService.DIR_TX;
            case "both" -> PdumpService.DIR_RX | PdumpService.DIR_TX;
            default -> throw bad("--dir takes rx, tx or both, got '" + o.dir + "'");
        };
        int queueMask = queueMask(o.queues);
        if (o.snaplen < 1 || o.snaplen > PdumpService.MAX_SNAPLEN) {
            throw bad("-s " + o.snaplen + " is out of range 1.." + PdumpService.MAX_SNAPLEN);
        }
        if (o.count < 0 || o.duration < 0) {
            throw bad("-c and --duration take numbers >= 0");
        }
        for (int p : o.ports) {
            if (p < 0 || p >= PortTable.MAX_PORTS) {
                throw bad("-i " + p + ": port ids are 0.." + (PortTable.MAX_PORTS - 1));
            }
        }
        try {
            return capture(o, dirs, queueMask);
        } catch (RuntimeException e) {
            err.println("pdump: error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            LOG.log(System.Logger.Level.DEBUG, "pdump failed", e);
            return 1;
        }
    }

    private int queueMask(String list) {
        if (list.strip().equals("*")) {
            return -1;
        }
        int mask = 0;
        for (String s : list.split(",")) {
            try {
                int q = Integer.parseInt(s.strip());
                if (q < 0 || q > 31) {
                    throw bad("--queue " + q + ": queue ids are 0..31");
                }
                mask |= 1 << q;
            } catch (NumberFormatException e) {
                throw bad("--queue takes queue ids separated by commas, or *; got '" + list + "'");
            }
        }
        return mask;
    }

    private int capture(AppOptions o, int dirs, int queueMask) throws IOException, InterruptedException {
        try (GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(10));
                MpRuntime rt = MpRuntime.start(eal)) {
            PdumpControl ctl = control(rt);
            rt.onPrimaryExit(() -> {
                err.println("pdump: the primary (pid " + rt.primaryPid() + ") ended: the capture ends with it");
                running = false;
            });
            PortTable table = PortTable.of(rt.memory());
            List<Integer> ports = new ArrayList<>(o.ports);
            if (ports.isEmpty()) {
                for (int p = 0; p < PortTable.MAX_PORTS; p++) {
                    if (table.state(p) == PortState.STARTED) {
                        ports.add(p);
                    }
                }
            }
            int portMask = 0;
            int highest = 0;
            for (int p : ports) {
                if (table.state(p) == PortState.FREE) {
                    throw new IllegalStateException("-i " + p + ": the group has no port " + p);
                }
                portMask |= 1 << p;
                highest = Math.max(highest, p);
            }
            if (queueMask == -1) {
                int nq = 0;
                for (int p : ports) {
                    nq = Math.max(nq, Math.max(table.rxQueues(p), table.txQueues(p)));
                }
                queueMask = nq >= 32 ? -1 : (1 << nq) - 1;
            }
            MpRuntime.FloatingLcore lcore = rt.attachFloatingThread();
            try {
                Mempool pool = pool(rt);
                Ring ring = ring(rt, pool, lcore.id());
                long written;
                Path parent = o.file.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                try (PcapngWriter w = new PcapngWriter(new BufferedOutputStream(Files.newOutputStream(o.file), 1 << 16),
                        "jnic pdump")) {
                    for (int p = 0; p <= highest; p++) {
                        String name = table.state(p) == PortState.FREE ? "port" + p : table.deviceName(p);
                        w.interfaceBlock("port" + p, name + " (" + table.driverName(p) + ")", o.snaplen);
                    }
                    w.flush();
                    PdumpService.enable(rt, portMask, queueMask, dirs, o.snaplen);
                    out.printf(Locale.ROOT, "pdump: capturing ports %s, queues %s, %s, snap length %d into %s%n", ports,
                            o.queues, o.dir, o.snaplen, o.file);
                    try {
                        written = loop(o, ring, w, lcore.id());
                    } finally {
                        if (!rt.primaryGone()) {
                            try {
                                PdumpService.disable(rt);
                            } catch (RuntimeException e) {
                                err.println("pdump: " + e.getMessage());
                            }
                        }
                    }
                    Thread.sleep(50); // a burst that saw the capture on before the switch may still be copying
                    written += drain(ring, o.count == 0 ? Long.MAX_VALUE : Math.max(0, o.count - written), w, lcore.id());
                }
                out.printf(Locale.ROOT, "pdump: %d packets written to %s; captured %d, dropped %d (capture ring full) "
                        + "and %d (capture pool empty)%n", written, o.file, ctl.captured(), ctl.droppedRingFull(),
                        ctl.droppedNoMbuf());
            } finally {
                lcore.close();
            }
            return 0;
        }
    }

    /** The group's capture switch; a primary still starting its ports gets {@value #CONTROL_WAIT_S} s to make it. */
    private PdumpControl control(MpRuntime rt) throws InterruptedException {
        long end = System.nanoTime() + CONTROL_WAIT_S * 1_000_000_000L;
        for (;;) {
            java.util.Optional<PdumpControl> c = PdumpControl.find(rt.memory());
            if (c.isPresent()) {
                return c.get();
            }
            if (System.nanoTime() - end > 0 || rt.primaryGone() || !running) {
                throw new IllegalStateException("the primary (pid " + rt.primaryPid() + ") of file prefix '"
                        + rt.filePrefix() + "' offers no packet capture (l2fwd-mp does, once its ports are started)");
            }
            Thread.sleep(50);
        }
    }

    /** Writes what arrives until the count, the duration or a signal. */
    private long loop(AppOptions o, Ring ring, PcapngWriter w, int lcore) throws IOException, InterruptedException {
        long end = o.duration > 0 ? System.nanoTime() + o.duration * 1_000_000_000L : Long.MAX_VALUE;
        long written = 0;
        long lastFlush = System.nanoTime();
        while (running && (o.count == 0 || written < o.count) && System.nanoTime() - end < 0) {
            long room = o.count == 0 ? Long.MAX_VALUE : o.count - written;
            long n = drain(ring, room, w, lcore);
            written += n;
            long now = System.nanoTime();
            if (n == 0) {
                if (now - lastFlush > 200_000_000L) {
                    w.flush();
                    lastFlush = now;
                }
                Thread.sleep(1);
            }
        }
        return written;
    }

    private final long[] handles = new long[256];
    private final byte[] frame = new byte[DATA_ROOM];
    private final Mbuf m = new Mbuf();

    /** Writes up to {@code max} of the records in the ring (frees the rest of a burst beyond it); returns how many. */
    private long drain(Ring ring, long max, PcapngWriter w, int lcore) throws IOException {
        long written = 0;
        int n;
        while ((n = ring.dequeueBurst(handles, 0, handles.length)) > 0) {
            for (int i = 0; i < n; i++) {
                if (written < max && write(handles[i], w)) {
                    written++;
                }
            }
            Mempool.freeBulk(handles, 0, n, lcore);
        }
        return written;
    }

    private boolean write(long h, PcapngWriter w) throws IOException {
        m.wrap(h);
        int len = m.dataLen() - CaptureRecord.HEADER;
        if (len < 0 || len > frame.length) {
            return false; // not a record: never trust what shared memory says
        }
        MemorySegment s = m.pool().segment();
        long at = m.dataPosition();
        long ts = s.get(ValueLayout.JAVA_LONG_UNALIGNED, at + CaptureRecord.OFF_TIMESTAMP);
        int orig = s.get(ValueLayout.JAVA_INT_UNALIGNED, at + CaptureRecord.OFF_ORIG_LEN);
        int port = Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + CaptureRecord.OFF_PORT));
        int queue = Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, at + CaptureRecord.OFF_QUEUE));
        int dir = s.get(ValueLayout.JAVA_BYTE, at + CaptureRecord.OFF_DIRECTION);
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at + CaptureRecord.HEADER, frame, 0, len);
        w.packet(port, ts, frame, len, Math.max(orig, len), dir == CaptureRecord.RX, queue);
        return true;
    }

    /** The capture pool: made by the first pdump of the group, reused by later ones. */
    private static Mempool pool(MpRuntime rt) {
        Memzone z = rt.memory().find(PdumpControl.POOL).orElse(null);
        if (z != null) {
            for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
                Mempool p = Mempool.lookup(id);
                if (p != null && !p.isClosed() && p.segment().address() == z.memory().address()) {
                    return p;
                }
            }
            return Mempool.attach(z.memory());
        }
        MempoolConfig c = new MempoolConfig("pdump_pool", freePoolId(rt), POOL_SIZE, 0, Mempool.MAX_LCORES, 0, DATA_ROOM, 0);
        long page = rt.memory().pageSize().bytes();
        z = rt.reserve(PdumpControl.POOL, Mempool.bytesNeeded(c, page), page);
        return Mempool.create(z.memory(), c, z::iova, page);
    }

    /** The highest pool id no pool of the group uses. */
    private static int freePoolId(MpRuntime rt) {
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (Memzone z : rt.memory().memzones()) {
            MemorySegment m = z.memory();
            if (MempoolDescriptor.isMempool(m)) {
                Mempool p = null;
                for (int id = 1; id <= Mempool.MAX_POOL_ID && p == null; id++) {
                    Mempool q = Mempool.lookup(id);
                    if (q != null && !q.isClosed() && q.segment().address() == m.address()) {
                        p = q;
                    }
                }
                if (p != null) {
                    used.add(p.poolId());
                } else {
                    Mempool a = Mempool.attach(m);
                    used.add(a.poolId());
                    a.close();
                }
            }
        }
        for (int id = Mempool.MAX_POOL_ID; id > 0; id--) {
            if (!used.contains(id) && Mempool.lookup(id) == null) {
                return id;
            }
        }
        throw new IllegalStateException("every mempool id is in use");
    }

    /** The capture ring (multi-producer: every forwarding process; single consumer: pdump), emptied of leftovers. */
    private static Ring ring(MpRuntime rt, Mempool pool, int lcore) {
        Memzone z = rt.memory().find(PdumpControl.RING).orElse(null);
        if (z == null) {
            z = rt.reserve(PdumpControl.RING, Ring.bytesNeeded(RING_SIZE, Ring.F_SC_DEQ), Ring.ALIGNMENT);
            return Ring.create(z.memory(), "pdump_ring", RING_SIZE, Ring.F_SC_DEQ);
        }
        Ring r = Ring.attach(z.memory());
        long[] h = new long[256];
        int n;
        while ((n = r.dequeueBurst(h, 0, h.length)) > 0) {
            Mempool.freeBulk(h, 0, n, lcore); // an earlier pdump ended before reading them
        }
        return r;
    }
}
