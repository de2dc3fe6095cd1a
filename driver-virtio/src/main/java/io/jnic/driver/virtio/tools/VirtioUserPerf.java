package io.jnic.driver.virtio.tools;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortStats;
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
import io.jnic.sys.Proc;
import io.jnic.sys.Sched;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The virtio-user side of bench/scripts/virtio-vs-dpdk.sh: testpmd's txonly and io forwarding over one jnic
 * virtio-user port, so that DPDK's own virtio-user frontend can be run against the same backend in the same
 * run. Prints one line per second ({@code tx-pps rx-pps}) and a median line at the end.
 *
 * <pre>
 *   VirtioUserPerf --vdev virtio_user0,path=SOCK --mode txonly|io [--seconds 10] [--burst 32] [--len 64]
 *                  [--cpu 1] [--no-huge] [--tx-first 256]
 * </pre>
 * txonly writes a 42-byte Ethernet/IPv4/UDP header into every frame before sending it, as testpmd's txonly does;
 * io sends {@code --tx-first} frames once, then returns every received frame on the same queue.
 *
 * <p>Runs through the ethdev port API (net_virtio_user) with an mbuf pool, as testpmd runs through rte_ethdev.
 */
public final class VirtioUserPerf {
    /** The forwarding thread's lcore: its mempool cache serves the port's queues and the frames it builds. */
    private static final int LCORE = 0;

    private VirtioUserPerf() {
    }

    public static void main(String[] argv) throws Exception {
        String vdev = null;
        String mode = "txonly";
        int seconds = 10;
        int burst = 32;
        int len = 64;
        int cpu = -1;
        boolean noHuge = false;
        int txFirst = 256;
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--vdev" -> vdev = argv[++i];
                case "--mode" -> mode = argv[++i];
                case "--seconds" -> seconds = Integer.parseInt(argv[++i]);
                case "--burst" -> burst = Integer.parseInt(argv[++i]);
                case "--len" -> len = Integer.parseInt(argv[++i]);
                case "--cpu" -> cpu = Integer.parseInt(argv[++i]);
                case "--no-huge" -> noHuge = true;
                case "--tx-first" -> txFirst = Integer.parseInt(argv[++i]);
                default -> {
                    System.err.println("unknown option " + argv[i]);
                    System.exit(2);
                }
            }
        }
        if (vdev == null || !(mode.equals("txonly") || mode.equals("io"))) {
            System.err.println("usage: VirtioUserPerf --vdev virtio_user0,path=SOCK --mode txonly|io [--seconds N]"
                    + " [--burst N] [--len N] [--cpu N] [--no-huge] [--tx-first N]");
            System.exit(2);
        }
        if (noHuge || Hugepages.available(PageSize.HUGE_2M) < 20) {
            noHuge = true;
        }
        Path run = Files.createTempDirectory("jnic-vperf");
        MemoryConfig.Builder b = MemoryConfig.builder().filePrefix("vperf" + Proc.getpid() + "_").runtimeDir(run)
                .iovaMode(IovaMode.ASSIGNED).size(32L << 20);
        if (noHuge) {
            b.noHuge();
        }
        try (MemoryGroup memory = MemoryGroup.create(b.build())) {
            MempoolConfig pc = MempoolConfig.of("vperf", 1, 8191);
            long page = memory.pageSize().bytes();
            Memzone z = memory.reserve("vperf.pool", Mempool.bytesNeeded(pc, page), page);
            try (Mempool pool = Mempool.create(z.memory(), pc, z::iova, page)) {
                EthPorts ports = new EthPorts(memory);
                EthDevice port = ports.createVdev(vdev.startsWith("virtio_user") ? "net_" + vdev : vdev);
                // one thread polls the port and fills its frames: the queues use its mempool cache, as a DPDK
                // forwarding lcore's queues use that lcore's cache
                port.configure(PortConfig.of(1, 1).withLcore(LCORE));
                port.rxQueueSetup(0, 256, pool);
                port.txQueueSetup(0, 256);
                port.start();
                if (cpu >= 0) {
                    BitSet set = new BitSet();
                    set.set(cpu);
                    Sched.setAffinity(0, set);
                }
                System.out.println("# jnic virtio-user " + mode + " burst " + burst + " len " + len + " link "
                        + port.waitLink(java.time.Duration.ofSeconds(5)) + (noHuge ? " --no-huge" : " hugepages"));
                run(port, pool, mode.equals("txonly"), seconds, burst, len, txFirst);
                port.close();
            }
        } finally {
            Files.deleteIfExists(run); // the group removed its files on close; the directory is ours
        }
    }

    private static void run(EthDevice port, Mempool pool, boolean txonly, int seconds, int burst, int len, int txFirst) {
        byte[] header = udpHeader(len);
        Mbuf m = new Mbuf();
        MbufBatch batch = new MbufBatch(burst);
        final int lcore = LCORE;
        if (!txonly) {
            for (int sent = 0; sent < txFirst; ) {
                int n = Math.min(burst, txFirst - sent);
                if (!batch.alloc(pool, n, lcore)) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    m.wrap(batch.get(i)).append(len);
                    m.write(0, header, 0, header.length);
                }
                port.txBurst(0, batch);
                batch.free(lcore);
                sent += n;
            }
        }
        double[] rates = new double[seconds];
        PortStats st = new PortStats();
        long next = System.nanoTime() + 1_000_000_000L;
        long lastTx = 0;
        long lastRx = 0;
        long lastT = System.nanoTime();
        int sec = 0;
        while (sec < seconds) {
            if (txonly) {
                if (batch.alloc(pool, burst, lcore)) {
                    long[] h = batch.handles();
                    for (int i = 0; i < burst; i++) {
                        // what testpmd's txonly does per packet: length fields and a header template copy
                        m.wrap(h[i]).dataLen(len).pktLen(len);
                        m.write(0, header, 0, header.length);
                    }
                    port.txBurst(0, batch);
                    batch.free(lcore); // the unsent rest
                }
            } else {
                if (port.rxBurst(0, batch) > 0) {
                    port.txBurst(0, batch);
                    batch.free(lcore);
                }
            }
            long now = System.nanoTime();
            if (now >= next) {
                port.stats(st);
                double dt = (now - lastT) / 1e9;
                double txr = (st.opackets - lastTx) / dt;
                double rxr = (st.ipackets - lastRx) / dt;
                rates[sec++] = txr;
                System.out.printf("tx-pps %.0f rx-pps %.0f%n", txr, rxr);
                lastTx = st.opackets;
                lastRx = st.ipackets;
                lastT = now;
                next = now + 1_000_000_000L;
            }
        }
        double[] s = Arrays.copyOf(rates, sec);
        Arrays.sort(s);
        System.out.printf("median-tx-pps %.0f%n", s.length == 0 ? 0.0 : s[s.length / 2]);
    }

    /** Ethernet + IPv4 + UDP header for a frame of {@code len} bytes (as testpmd's txonly builds it). */
    static byte[] udpHeader(int len) {
        byte[] h = new byte[42];
        byte[] dst = {0x02, 0, 0, 0, 0, 0x02};
        byte[] src = {0x02, 0, 0, 0, 0, 0x01};
        System.arraycopy(dst, 0, h, 0, 6);
        System.arraycopy(src, 0, h, 6, 6);
        h[12] = 0x08;
        h[14] = 0x45;
        int ipLen = len - 14;
        h[16] = (byte) (ipLen >> 8);
        h[17] = (byte) ipLen;
        h[22] = 64;
        h[23] = 17;
        h[26] = (byte) 198;
        h[27] = 18;
        h[29] = 1;
        h[30] = (byte) 198;
        h[31] = 18;
        h[33] = 2;
        h[34] = 0x04;
        h[36] = 0x04;
        h[37] = 1;
        int udpLen = ipLen - 20;
        h[38] = (byte) (udpLen >> 8);
        h[39] = (byte) udpLen;
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((h[i] & 0xFF) << 8) | (h[i + 1] & 0xFF);
        }
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = ~((sum & 0xFFFF) + (sum >>> 16)) & 0xFFFF;
        h[24] = (byte) (sum >> 8);
        h[25] = (byte) sum;
        return h;
    }
}
