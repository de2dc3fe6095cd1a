package io.jnic.bench.ethdev;

import io.jnic.driver.ixgbe.IxgbeDriver;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortContext;
import io.jnic.ethdev.PortTable;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.Hugepages;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.PageSize;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a queue pair costs per packet in the port's own process and in another process that attached it, as an
 * l2fwd-mp secondary does: rx burst + tx burst of 32 on queue 0 of one ixgbe port over a register file
 * ({@link RegisterFileDevice}; {@link DevicePlay} plays the device, as for {@link IxgbeBurst}).
 * <ul>
 *   <li>{@code primary}: this JVM made the memory group and the port, and forwards through {@code queuePair(0)}.
 *   <li>{@code secondary}: a child JVM ({@link #main}) made the group and the port and stays idle; this JVM attaches
 *       the group's file-backed memory, the mempool and the queue ({@link IxgbeDriver#attachQueue}) with its own
 *       mapping of the doorbell page, and forwards through that pair.
 * </ul>
 * The same work on the same core (the script pins the JVM); the ratio secondary / primary is the figure.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class QueuePairCost {
    private static final int RING = DevicePlay.RING;
    private static final int BURST = 32;
    private static final int POOL_ID = 30;

    @Param({"primary", "secondary"})
    String process;

    private Path dir;
    private MemoryGroup group;
    private Mempool pool;
    private EthPorts ports;
    private Process child;
    private QueuePair pair;
    private MbufBatch b;
    private DevicePlay play;

    /** The group both processes use: file-backed, hugepages when enough are free. */
    private static MemoryConfig config(Path dir, String prefix, boolean create) {
        long bytes = 4095 * 2560L + (32L << 20);
        MemoryConfig.Builder c = MemoryConfig.builder().filePrefix(prefix).iovaMode(IovaMode.ASSIGNED).size(bytes)
                .runtimeDir(dir);
        if (create && Hugepages.available(PageSize.HUGE_2M) * PageSize.HUGE_2M.bytes() < bytes + (8L << 20)) {
            c.noHuge();
        }
        return c.build();
    }

    /** The port's own process: a group, the pool, the port started with its queue pair; returns the port id. */
    private static int makePort(MemoryGroup g, EthPorts ports) throws Exception {
        MempoolConfig c = MempoolConfig.of("qpc", POOL_ID, 4095);
        long page = g.pageSize().bytes();
        Memzone z = g.reserve("pool", Mempool.bytesNeeded(c, page), page);
        Mempool pool = Mempool.create(z.memory(), c, z::iova, page);
        EthDevice dev = ports.probe(new RegisterFileDevice());
        dev.configure(PortConfig.of(1, 1).withLcore(0));
        dev.rxQueueSetup(0, RING, pool);
        dev.txQueueSetup(0, RING);
        dev.start();
        return dev.portId();
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("jnic-qpc");
        String prefix = "qpc" + ProcessHandle.current().pid();
        int port;
        if (process.equals("primary")) {
            group = MemoryGroup.create(config(dir, prefix, true));
            ports = new EthPorts(group);
            port = makePort(group, ports);
            pair = ports.port(port).queuePair(0);
        } else {
            String java = ProcessHandle.current().info().command().orElse("java");
            child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    QueuePairCost.class.getName(), dir.toString(), prefix).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (line == null || !line.startsWith("ready ")) {
                throw new IllegalStateException("the port's process did not start: " + line);
            }
            port = Integer.parseInt(line.substring(6));
            group = MemoryGroup.attach(config(dir, prefix, false));
            pool = Mempool.attach(group.lookup("pool").memory());
            PortContext ctx = new PortContext(port, group, PortTable.of(group));
            pair = new IxgbeDriver().attachQueue(ctx, new RegisterFileDevice().bar(0), 0, 0);
        }
        play = new DevicePlay(group, port);
        b = new MbufBatch(BURST);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        long moved = Math.min(pair.rxPackets(), pair.txPackets());
        if (!b.isEmpty()) {
            b.free(0);
        }
        pair.close();
        if (ports != null) {
            ports.close();
        }
        if (pool != null) {
            pool.close();
        }
        group.close();
        if (child != null) {
            child.getOutputStream().close(); // the child ends when its stdin does
            child.waitFor(30, TimeUnit.SECONDS);
            child.destroyForcibly();
        }
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.deleteIfExists(dir);
        if (moved < RING) {
            throw new IllegalStateException("the " + process + " pair moved " + moved + " packets: the figure is void");
        }
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public int rxTxBurst() {
        play.received(pair.rxBurst(b));
        int sent = pair.txBurst(b);
        play.transmitted();
        if (!b.isEmpty()) {
            b.free(0);
        }
        return sent;
    }

    /** The port's own process in the {@code secondary} case: args = runtime dir, file prefix; ends at stdin's EOF. */
    public static void main(String[] args) throws Exception {
        try (MemoryGroup g = MemoryGroup.create(config(Path.of(args[0]), args[1], true)); EthPorts ports = new EthPorts(g)) {
            System.out.println("ready " + makePort(g, ports));
            System.out.flush();
            while (System.in.read() >= 0) {
                // idle until the benchmark closes our stdin
            }
        }
    }
}
