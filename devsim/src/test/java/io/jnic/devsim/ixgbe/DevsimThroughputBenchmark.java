package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;

import io.jnic.devsim.wire.GeneratorWire;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Throughput of the 82599 model on one thread, 64-byte frames (a benchmark, not a test: it never fails on a
 * number). RX: the generator wire feeds 64 flows, RSS spreads them over 4 queues of 1024 descriptors, and a
 * minimal driver loop on the same thread takes each DD descriptor and gives it back. TX: the driver loop keeps
 * a 1024-descriptor ring full of 64-byte frames (RS every 32) and the sink counts what leaves. Reports frames
 * per second of model + driver loop, the share of time spent inside the model, and heap bytes allocated per
 * frame. Run:
 * {@code java --enable-native-access=ALL-UNNAMED -cp devsim/target/test-classes:devsim/target/devsim.jar
 * io.jnic.devsim.ixgbe.DevsimThroughputBenchmark [seconds [rx|tx|both]]}; results also go to
 * devsim/target/devsim-throughput.txt.
 */
public final class DevsimThroughputBenchmark {
    static final int QUEUES = 4;
    static final int RING = 1024;

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        String which = args.length > 1 ? args[1] : "both";
        StringBuilder report = new StringBuilder();
        if (!which.equals("tx")) {
            report.append(rx(seconds / 2)).append(rx(seconds)); // the first run warms the JIT up
        }
        if (!which.equals("rx")) {
            report.append(tx(seconds / 2)).append(tx(seconds));
        }
        System.out.print(report);
        Path out = Path.of("devsim/target/devsim-throughput.txt");
        if (Files.isDirectory(out.getParent())) {
            Files.writeString(out, report);
        }
    }

    static long cpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    static String rx(double seconds) {
        GeneratorWire gen = new GeneratorWire(0, Harness.mac(1), 0, 64, 64, -1, 0);
        gen.setRunning(false);
        try (Harness h = new Harness(0, Harness.mac(1), gen)) {
            h.resetAndLinkUp();
            for (int i = 0; i < RSSRK_REGS; i++) {
                h.w(RSSRK0 + 4 * i, 0x6d5a56da + i * 0x01010101);
            }
            for (int i = 0; i < RETA_REGS; i++) {
                h.w(RETA0 + 4 * i, 0x03020100);
            }
            h.w(MRQC, MRQC_MRQE_RSS | MRQC_RSS_FIELD_IPV4 | MRQC_RSS_FIELD_IPV4_UDP);
            h.w(RXCSUM, RXCSUM_PCSD);
            h.w(RXCTRL, RXCTRL_RXEN);
            long[] rings = new long[QUEUES];
            long[][] bufs = new long[QUEUES][RING];
            MemorySegment[] ringMem = new MemorySegment[QUEUES];
            for (int q = 0; q < QUEUES; q++) {
                rings[q] = h.alloc((long) RING * DESC_SIZE);
                ringMem[q] = h.at(rings[q]).asSlice(0, (long) RING * DESC_SIZE);
                for (int i = 0; i < RING; i++) {
                    bufs[q][i] = h.alloc(2048);
                    h.armRx(rings[q], i, bufs[q][i]);
                }
                int base = rxq(q);
                h.w(base + RDBAL, (int) rings[q]);
                h.w(base + RDBAH, (int) (rings[q] >>> 32));
                h.w(base + RDLEN, RING * DESC_SIZE);
                h.w(base + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT) | SRRCTL_DROP_EN);
                h.w(base + RXDCTL, RXDCTL_ENABLE);
            }
            h.poll(1);
            for (int q = 0; q < QUEUES; q++) {
                h.w(rxq(q) + RDT, RING - 1);
            }
            gen.setRunning(true);
            int[] next = new int[QUEUES];
            long frames = 0;
            long inModel = 0;
            long a0 = allocated();
            long c0 = cpu();
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            long now = t0;
            while (now < end) {
                for (int k = 0; k < 16; k++) {
                    long p0 = System.nanoTime();
                    h.dev.poll();
                    inModel += System.nanoTime() - p0;
                    for (int q = 0; q < QUEUES; q++) {
                        MemorySegment r = ringMem[q];
                        int i = next[q];
                        int got = 0;
                        while ((r.get(Harness.LE_INT, (long) i * DESC_SIZE + 8) & RXD_STAT_DD) != 0) {
                            r.set(Harness.LE_LONG, (long) i * DESC_SIZE, bufs[q][i]);
                            r.set(Harness.LE_LONG, (long) i * DESC_SIZE + 8, 0);
                            i = i + 1 == RING ? 0 : i + 1;
                            got++;
                        }
                        if (got > 0) {
                            next[q] = i;
                            frames += got;
                            Harness.REG.setRelease(h.page, (long) rxq(q) + RDT, i == 0 ? RING - 1 : i - 1);
                        }
                    }
                }
                now = System.nanoTime();
            }
            long a1 = allocated();
            double cpuSecs = (cpu() - c0) / 1e9;
            double secs = (now - t0) / 1e9;
            PortCounters c = h.dev.counters();
            return String.format(Locale.ROOT,
                    "RX 64B, %d queues, RSS: %.2f Mpps per CPU-second of the thread (%.2f Mpps wall clock; model +"
                            + " driver loop, %.0f%% of it in the model), %.3f B allocated/frame, generated %d, dropped %d%n",
                    QUEUES, frames / cpuSecs / 1e6, frames / secs / 1e6, 100.0 * inModel / (now - t0),
                    (double) (a1 - a0) / Math.max(1, frames), gen.sent(), c.rxQueueDrops() + c.rxNoBuffer());
        }
    }

    static String tx(double seconds) {
        GeneratorWire sink = new GeneratorWire(0, Harness.mac(1), 0, 64, 1, -1, 0);
        sink.setRunning(false);
        try (Harness h = new Harness(0, Harness.mac(1), sink)) {
            h.resetAndLinkUp();
            long ring = h.setupTx(0, RING, 0);
            MemorySegment r = h.at(ring).asSlice(0, (long) RING * DESC_SIZE);
            byte[] frame = Frames.broadcast(60);
            long bufs = h.alloc(RING * 64L);
            for (int i = 0; i < RING; i++) {
                h.at(bufs + 64L * i).asSlice(0, 60).copyFrom(MemorySegment.ofArray(frame));
            }
            int cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_DEXT | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | 60;
            int tail = 0;
            int clean = 0;
            int inFlight = 0;
            long frames = 0;
            long inModel = 0;
            long a0 = allocated();
            long c0 = cpu();
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            long now = t0;
            while (now < end) {
                for (int k = 0; k < 16; k++) {
                    // reclaim: RS is set on every 32nd descriptor, its DD frees the 32 before it
                    while (inFlight >= 32) {
                        int rsIdx = (clean + 31) % RING;
                        if ((r.get(Harness.LE_INT, (long) rsIdx * DESC_SIZE + 12) & TXD_STAT_DD) == 0) {
                            break;
                        }
                        clean = (clean + 32) % RING;
                        inFlight -= 32;
                        frames += 32;
                    }
                    while (inFlight < RING - 32) {
                        for (int j = 0; j < 32; j++) {
                            long d = (long) tail * DESC_SIZE;
                            r.set(Harness.LE_LONG, d, bufs + 64L * tail);
                            r.set(Harness.LE_INT, d + 8, cmd | (j == 31 ? TXD_CMD_RS : 0));
                            r.set(Harness.LE_INT, d + 12, 60 << 14);
                            tail = tail + 1 == RING ? 0 : tail + 1;
                        }
                        inFlight += 32;
                    }
                    Harness.REG.setRelease(h.page, (long) txq(0) + TDT, tail);
                    long p0 = System.nanoTime();
                    h.dev.poll();
                    inModel += System.nanoTime() - p0;
                }
                now = System.nanoTime();
            }
            long a1 = allocated();
            double cpuSecs = (cpu() - c0) / 1e9;
            double secs = (now - t0) / 1e9;
            return String.format(Locale.ROOT,
                    "TX 64B, 1 queue: %.2f Mpps per CPU-second of the thread (%.2f Mpps wall clock; model + driver"
                            + " loop, %.0f%% of it in the model), %.3f B allocated/frame, sink counted %d, lost %d%n",
                    frames / cpuSecs / 1e6, frames / secs / 1e6, 100.0 * inModel / (now - t0),
                    (double) (a1 - a0) / Math.max(1, frames), sink.sinkFrames(), sink.lost());
        }
    }
}
