package io.jnic.bench.pdump;

import io.jnic.ethdev.PortTable;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.memory.ring.Ring;
import io.jnic.mp.ethdev.pdump.CaptureRecord;
import io.jnic.mp.ethdev.pdump.CaptureTap;
import io.jnic.mp.ethdev.pdump.PdumpControl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the packet-capture hook costs a burst of 32 received mbufs ({@code CaptureTap.rx}, as L2Forwarder calls
 * it). Modes: {@code none} (no call: the floor), {@code off} (no capture on: one read of the control word),
 * {@code filtered} (a capture on, but of another queue), {@code on} (this queue captured: 32 copies into the
 * capture pool and one enqueue on the capture ring; the op also dequeues and frees them, as pdump does, so that
 * the ring never fills). Divide ns/op by 32 for ns per packet.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CaptureTapBench {
    static final int BURST = 32;

    @Param({"none", "off", "filtered", "on"})
    public String mode;

    @Param({"64", "1518"})
    public int frame;

    private Path dir;
    private MemoryGroup group;
    private Mempool data;
    private Mempool capture;
    private Ring ring;
    private PdumpControl control;
    private CaptureTap tap;
    private MbufBatch batch;
    private final long[] drained = new long[BURST];
    private long sink;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        dir = Files.createTempDirectory("jnic-bench-pdump");
        group = MemoryGroup.create(MemoryConfig.builder().filePrefix("benchpdump").runtimeDir(dir).size(64L << 20).noHuge()
                .build());
        long page = group.pageSize().bytes();
        MempoolConfig dc = MempoolConfig.of("bench_data", 1, 1023).withCacheSize(0);
        Memzone dz = group.reserve("bench.data", Mempool.bytesNeeded(dc, page), page);
        data = Mempool.create(dz.memory(), dc, dz::iova, page);
        MempoolConfig cc = new MempoolConfig("pdump_pool", 2, 1023, 0, Mempool.MAX_LCORES, 0, CaptureRecord.HEADER + 2048, 0);
        Memzone cz = group.reserve(PdumpControl.POOL, Mempool.bytesNeeded(cc, page), page);
        capture = Mempool.create(cz.memory(), cc, cz::iova, page);
        Memzone rz = group.reserve(PdumpControl.RING, Ring.bytesNeeded(1024, Ring.F_SC_DEQ), Ring.ALIGNMENT);
        ring = Ring.create(rz.memory(), "pdump_ring", 1024, Ring.F_SC_DEQ);
        control = PdumpControl.create(group);
        int[] rx = new int[PortTable.MAX_PORTS];
        int[] tx = new int[PortTable.MAX_PORTS];
        rx[0] = mode.equals("filtered") ? 0b10 : 0b01; // filtered: queue 1 is captured, the bench's queue 0 is not
        if (!mode.equals("off") && !mode.equals("none")) {
            control.enable(rx, tx, 262144, (int) ProcessHandle.current().pid());
        }
        tap = CaptureTap.over(control, group, 0);
        batch = new MbufBatch(BURST);
        if (!batch.alloc(data, BURST, 0)) {
            throw new IllegalStateException("no mbufs");
        }
        Mbuf m = new Mbuf();
        for (int i = 0; i < BURST; i++) {
            m.wrap(batch.get(i)).dataLen(frame).pktLen(frame);
            m.setIntBE(0, 0x02000000 | i);
        }
    }

    @Benchmark
    public long rxBurst() {
        if (mode.charAt(0) != 'n') { // "none": the burst without the hook
            tap.rx(0, 0, batch, BURST);
        }
        int n = ring.dequeueBurst(drained, 0, BURST);
        if (n > 0) {
            Mempool.freeBulk(drained, 0, n, 0);
        }
        return sink += n;
    }

    /**
     * The same loop timed by thread CPU time (best of 5 rounds of 200000 bursts per mode and frame size), which
     * does not count time spent waiting for a CPU on a shared machine: {@code mode frame ns/burst} lines.
     */
    public static void main(String[] args) throws IOException {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int frame : new int[] {64, 1518}) {
            for (String mode : new String[] {"none", "off", "filtered", "on"}) {
                CaptureTapBench b = new CaptureTapBench();
                b.mode = mode;
                b.frame = frame;
                b.setup();
                double best = Double.MAX_VALUE;
                for (int round = 0; round < 6; round++) {
                    long c0 = t.getCurrentThreadCpuTime();
                    for (int i = 0; i < 200_000; i++) {
                        b.rxBurst();
                    }
                    double ns = (t.getCurrentThreadCpuTime() - c0) / 200_000.0;
                    if (round > 0) { // the first round warms up
                        best = Math.min(best, ns);
                    }
                }
                b.tearDown();
                System.out.printf(java.util.Locale.ROOT, "%s %d %.1f%n", mode, frame, best);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (mode.equals("on") && control.captured() == 0) {
            throw new IllegalStateException("the tap captured nothing");
        }
        batch.free(0);
        capture.close();
        data.close();
        group.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
