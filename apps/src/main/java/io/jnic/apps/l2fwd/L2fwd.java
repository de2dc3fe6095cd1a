package io.jnic.apps.l2fwd;

import io.jnic.pci.PciDevices;
import io.jnic.apps.common.GracefulExit;
import io.jnic.apps.common.PciScan;
import io.jnic.apps.common.PrimaryPorts;
import io.jnic.devsim.Devsim;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxInterrupts;
import io.jnic.memory.Hugepages;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.PageSize;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * l2fwd, single process (DPDK's examples/l2fwd): every frame received on a port leaves on its pair (0<->1,
 * 2<->3, ...) with its MAC addresses rewritten (destination 02:00:00:00:00:<tx port>, source the TX port's
 * address); prints per-port and total rates every period. Without devices it starts two simulated 82599
 * ports (devsim) in this JVM, each on a traffic generator wire, and drives them over vfio-user.
 */
@Command(name = "l2fwd", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Forward frames between port pairs with MAC rewriting, as DPDK's l2fwd.",
            "Without -a/--vdev: the devices bound to vfio-pci or uio_pci_generic that a jnic driver takes,",
            "or, when there are none, two simulated 82599 ports (devsim) with traffic generators."},
        footer = {"", "Examples:", "  l2fwd                                  (devsim, generator wires)",
            "  l2fwd --vdev net_null0 --vdev net_null1  (the stack's overhead)",
            "  l2fwd -a vfio-user:/tmp/port0.sock -a vfio-user:/tmp/port1.sock",
            "  l2fwd -a 0000:03:00.0 -a 0000:03:00.1   (82599 ports bound to vfio-pci)"})
public final class L2fwd implements Callable<Integer> {
    @Option(names = {"-a", "--allow"}, paramLabel = "DEVICE",
            description = "A device: a PCI address (VFIO or UIO) or vfio-user:SOCKET. Repeat for each port.")
    List<String> allow = new ArrayList<>();

    @Option(names = "--vdev", paramLabel = "SPEC", description = "A virtual device, e.g. net_null0,size=64. Repeatable.")
    List<String> vdevs = new ArrayList<>();

    @Option(names = {"-T", "--timer-period"}, defaultValue = "1", description = "Seconds between statistics (0: none).")
    int period;

    @Option(names = "--duration", defaultValue = "0", description = "Stop after this many seconds (0: run until Ctrl-C).")
    int duration;

    @Option(names = "--no-mac-updating", description = "Forward frames unchanged.")
    boolean noMacUpdating;

    @Option(names = "--burst", defaultValue = "32", description = "Packets per rx/tx burst (1-512).")
    int burst;

    @Option(names = "--ring", defaultValue = "1024", description = "Descriptors per RX/TX ring.")
    int ring;

    @Option(names = "--mbufs", defaultValue = "8191", description = "Mbufs in the pool.")
    int mbufs;

    @Option(names = "--rx-interrupts", description = {"Interrupt/poll adaptive: after --idle-polls empty passes, sleep "
            + "on the ports' RX interrupts (up to 10 ms) instead of spinning."})
    boolean rxInterrupts;

    @Option(names = "--idle-polls", defaultValue = "256", description = "Empty passes before sleeping (--rx-interrupts).")
    int idlePolls;

    @Option(names = "--no-huge", description = "Use 4 KB pages instead of hugepages.")
    boolean noHuge;

    @Option(names = "--file-prefix", defaultValue = "l2fwd", description = "Prefix of the shared memory files.")
    String filePrefix;

    @Option(names = "--devsim-rate", defaultValue = "0", description = "devsim generator rate in packets/s (0: as fast as it goes).")
    long devsimRate;

    @Option(names = "--devsim-size", defaultValue = "64", description = "devsim generator frame size in bytes.")
    int devsimSize;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The forwarding thread is the only one touching the queues: it uses lcore 0's mempool cache. */
    private static final int LCORE = 0;

    private final PrintStream out;
    private volatile boolean running = true;
    private Path tempRuntimeDir;

    public L2fwd(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new L2fwd(System.out)).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (burst < 1 || burst > 512) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--burst must be 1-512, got " + burst);
        }
        Devsim sim = null;
        Path simDir = null;
        List<String> devices = new ArrayList<>(allow);
        if (devices.isEmpty() && vdevs.isEmpty()) {
            devices.addAll(PciScan.select(List.of(), List.of())); // devices bound to vfio-pci/uio_pci_generic
        }
        if (devices.isEmpty() && vdevs.isEmpty()) {
            simDir = Files.createTempDirectory("l2fwd-devsim");
            sim = Devsim.start(new Devsim.Config(2, List.of("gen"), new byte[] {0x02, 0x6a, 0x6e, 0, 0, 0}, devsimRate,
                    devsimSize, 64, -1, 0, 0));
            for (Path p : sim.serveVfioUser(simDir)) {
                devices.add("vfio-user:" + p);
            }
            out.println("l2fwd: no device given or bound to vfio-pci/uio_pci_generic: 2 simulated 82599 ports (devsim, generator wires) at " + simDir);
        }
        if ((devices.size() + vdevs.size()) % 2 != 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "l2fwd forwards between port pairs: give an "
                    + "even number of ports, got " + (devices.size() + vdevs.size()));
        }
        try (GracefulExit exit = GracefulExit.install(() -> running = false, Duration.ofSeconds(5));
                MemoryGroup mem = memory(); EthPorts ports = new EthPorts(mem)) {
            MempoolConfig pc = MempoolConfig.of("l2fwd_pool", 1, mbufs);
            long page = mem.pageSize().bytes();
            Memzone z = mem.reserve("l2fwd.pool", Mempool.bytesNeeded(pc, page), page);
            try (Mempool pool = Mempool.create(z.memory(), pc, z::iova, page)) {
                List<EthDevice> devs = new ArrayList<>();
                for (String d : devices) {
                    devs.add(ports.probe(PciDevices.open(d)));
                }
                for (String v : vdevs) {
                    devs.add(ports.createVdev(v));
                }
                for (EthDevice d : devs) {
                    d.configure(PortConfig.of(1, 1).withPromiscuous(true).withLcore(LCORE).withRxInterrupts(rxInterrupts));
                    d.rxQueueSetup(0, ring, pool);
                    d.txQueueSetup(0, ring);
                    d.start();
                    d.promiscuous(true);
                    out.println("port " + d.portId() + ": " + d.deviceName() + " (" + d.info().driverName() + "), MAC "
                            + d.macAddress() + ", link " + d.waitLink(Duration.ofSeconds(10)));
                }
                try (RxInterrupts waiter = rxInterrupts ? new RxInterrupts() : null) {
                    if (waiter != null) {
                        for (EthDevice d : devs) {
                            waiter.add(d, 0);
                        }
                    }
                    forward(devs.toArray(new EthDevice[0]), waiter);
                    if (waiter != null) {
                        out.println("l2fwd: slept on RX interrupts " + waiter.sleeps() + " times, woken by one "
                                + waiter.wakeups() + " times");
                    }
                }
                for (EthDevice d : devs) {
                    d.close();
                }
            }
        } finally {
            if (sim != null) {
                sim.close();
                deleteEmptyDir(simDir);
            }
            if (tempRuntimeDir != null) {
                deleteEmptyDir(tempRuntimeDir);
            }
        }
        return 0;
    }

    private MemoryGroup memory() {
        long bytes = (long) mbufs * 2560 + (64L << 20);
        MemoryConfig.Builder b = MemoryConfig.builder().filePrefix(filePrefix).iovaMode(IovaMode.ASSIGNED);
        boolean huge = !noHuge && Hugepages.available(PageSize.HUGE_2M) * PageSize.HUGE_2M.bytes() >= bytes + (4L << 20);
        if (!huge) {
            if (!noHuge) {
                out.println("l2fwd: not enough free 2 MB hugepages; using 4 KB pages (--no-huge)");
            }
            tempRuntimeDir = Path.of(System.getProperty("java.io.tmpdir"), "jnic-" + filePrefix + "-"
                    + ProcessHandle.current().pid());
            b.noHuge().runtimeDir(tempRuntimeDir);
        }
        MemoryGroup.removeStale(b.build());
        return MemoryGroup.create(b.size(bytes).build());
    }

    /** Removes a directory this run made, with the socket files devsim may leave in it. */
    private static void deleteEmptyDir(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (f.getFileName().toString().endsWith(".sock")) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        } catch (java.io.IOException e) {
            // an empty directory left in /tmp: harmless
        }
    }

    /** The forwarding loop: one thread, every port in turn (DPDK's l2fwd on one lcore). */
    private void forward(EthDevice[] devs, RxInterrupts waiter) {
        int n = devs.length;
        MbufBatch[] rx = new MbufBatch[n];
        long[] rxPkts = new long[n];
        long[] txPkts = new long[n];
        long[] txBytes = new long[n];
        long[] drops = new long[n];
        for (int p = 0; p < n; p++) {
            rx[p] = new MbufBatch(burst);
        }
        // per destination port: the 6 + 6 address bytes as two ints and a short, written big-endian
        int[] dstHi = new int[n];
        int[] dstLo = new int[n];
        int[] srcHi = new int[n];
        int[] srcLo = new int[n];
        for (int p = 0; p < n; p++) {
            long dst = 0x02_00_00_00_00_00L | devs[p].portId();
            long src = devs[p].macAddress().value();
            dstHi[p] = (int) (dst >>> 16);
            dstLo[p] = (int) (dst & 0xFFFF);
            srcHi[p] = (int) (src >>> 16);
            srcLo[p] = (int) (src & 0xFFFF);
        }
        Mbuf m = new Mbuf();
        long start = System.nanoTime();
        long periodNs = period * 1_000_000_000L;
        long next = start + (period > 0 ? periodNs : Long.MAX_VALUE / 2);
        long end = duration > 0 ? start + duration * 1_000_000_000L : Long.MAX_VALUE;
        long[] lastRx = new long[n];
        long[] lastTx = new long[n];
        long[] lastBytes = new long[n];
        long[] lastDrops = new long[n];
        long lastT = start;
        int loops = 0;
        int idle = 0;
        while (running) {
            boolean any = false;
            for (int p = 0; p < n; p++) {
                MbufBatch b = rx[p];
                int got = devs[p].rxBurst(0, b);
                if (got == 0) {
                    continue;
                }
                any = true;
                int dp = p ^ 1;
                rxPkts[p] += got;
                long bytes = 0;
                long[] h = b.handles();
                for (int i = 0; i < got; i++) {
                    m.wrap(h[i]);
                    if (!noMacUpdating) {
                        m.setIntBE(0, dstHi[dp]).setShortBE(4, dstLo[dp]).setIntBE(6, srcHi[dp]).setShortBE(10, srcLo[dp]);
                    }
                    bytes += m.dataLen();
                }
                int sent = devs[dp].txBurst(0, b);
                txPkts[dp] += sent;
                if (!b.isEmpty()) {
                    drops[dp] += b.count();
                    for (int i = 0; i < b.count(); i++) {
                        bytes -= m.wrap(h[i]).dataLen();
                    }
                    b.free(LCORE);
                }
                txBytes[dp] += bytes;
            }
            if (waiter != null) {
                idle = any ? 0 : idle + 1;
                if (idle >= idlePolls) {
                    waiter.sleep(10);
                    idle = 0;
                    loops |= 1023; // look at the clock after every sleep
                }
            }
            if ((++loops & 1023) == 0) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                if (now >= next) {
                    print(devs, now - lastT, rxPkts, txPkts, txBytes, drops, lastRx, lastTx, lastBytes, lastDrops);
                    lastT = now;
                    next += periodNs;
                }
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        long tot = 0;
        for (long t : txPkts) {
            tot += t;
        }
        out.printf(Locale.ROOT, "l2fwd: forwarded %d packets in %.1f s (%.3f Mpps)%n", tot, secs, tot / secs / 1e6);
    }

    private void print(EthDevice[] devs, long dtNs, long[] rx, long[] tx, long[] bytes, long[] drops, long[] lastRx,
            long[] lastTx, long[] lastBytes, long[] lastDrops) {
        double dt = dtNs / 1e9;
        StringBuilder sb = new StringBuilder();
        long totPkts = 0;
        long totBytes = 0;
        long totDrops = 0;
        for (int p = 0; p < devs.length; p++) {
            long r = rx[p] - lastRx[p];
            long t = tx[p] - lastTx[p];
            long by = bytes[p] - lastBytes[p];
            long d = drops[p] - lastDrops[p];
            sb.append(String.format(Locale.ROOT, "port %d: rx %.3f Mpps, tx %.3f Mpps, drops %d | ", devs[p].portId(),
                    r / dt / 1e6, t / dt / 1e6, d));
            totPkts += t;
            totBytes += by;
            totDrops += d;
            lastRx[p] = rx[p];
            lastTx[p] = tx[p];
            lastBytes[p] = bytes[p];
            lastDrops[p] = drops[p];
        }
        // Gbit/s on the wire: frame + FCS (4) + preamble/SFD (8) + inter-frame gap (12)
        sb.append(String.format(Locale.ROOT, "total %.3f Mpps, %.3f Gbit/s, %d drops", totPkts / dt / 1e6,
                (totBytes + 24.0 * totPkts) * 8 / dt / 1e9, totDrops));
        out.println(sb);
    }
}
