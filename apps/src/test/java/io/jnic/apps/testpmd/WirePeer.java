package io.jnic.apps.testpmd;

import io.jnic.devsim.Devsim;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.pci.vfiouser.VfioUserDevice;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The far ends of testpmd's ports, driven from the test's JVM: four simulated 82599 ports cabled in pairs (0-1,
 * 2-3); testpmd gets ports 1 and 3 (its ports 0 and 1), this peer drives 0 and 2 with jnic's ixgbe driver, so it
 * sends exactly the frames it chooses into testpmd's port 0 and sees every byte testpmd sends.
 */
final class WirePeer implements AutoCloseable {
    static final byte[] MAC_BASE = {0x02, 0x70, 0x6d, 0x64, 0, 0};
    private static final int RING = 512;

    final Devsim sim;
    final List<Path> sockets;
    private final MemoryGroup mem;
    private final EthPorts ports;
    private final Mempool pool;
    /** Cabled to testpmd's port 0 (devsim port 1) and port 1 (devsim port 3). */
    final EthDevice a;
    final EthDevice b;
    private final MbufBatch batch = new MbufBatch(32);
    private final Mbuf m = new Mbuf();

    WirePeer(Path dir, String prefix) {
        sim = Devsim.start(new Devsim.Config(4, List.of("pair"), MAC_BASE, 0, 64, 1, -1, 0, 0));
        sockets = sim.serveVfioUser(dir);
        MemoryConfig.Builder c = MemoryConfig.builder().filePrefix(prefix).iovaMode(IovaMode.ASSIGNED).noHuge()
                .runtimeDir(dir.resolve("peer-runtime"));
        MemoryGroup.removeStale(c.build());
        mem = MemoryGroup.create(c.size(48L << 20).build());
        ports = new EthPorts(mem);
        MempoolConfig pc = MempoolConfig.of("peer_pool", 7, 4095);
        long page = mem.pageSize().bytes();
        Memzone z = mem.reserve("peer.pool", Mempool.bytesNeeded(pc, page), page);
        pool = Mempool.create(z.memory(), pc, z::iova, page);
        a = open(sockets.get(0));
        b = open(sockets.get(2));
    }

    private EthDevice open(Path socket) {
        EthDevice d = ports.probe(VfioUserDevice.connect(socket));
        d.configure(PortConfig.of(1, 1).withPromiscuous(true));
        d.rxQueueSetup(0, RING, pool);
        d.txQueueSetup(0, RING);
        d.start();
        d.promiscuous(true);
        d.waitLink(Duration.ofSeconds(10));
        return d;
    }

    /** testpmd's side of the cable: its --vfio-user arguments for its ports 0 and 1. */
    List<String> testpmdPorts() {
        return List.of("--vfio-user", sockets.get(1).toString(), "--vfio-user", sockets.get(3).toString());
    }

    /** The MAC address of devsim port {@code p}. */
    static long mac(int p) {
        long v = 0;
        for (byte x : MAC_BASE) {
            v = v << 8 | (x & 0xFF);
        }
        return v + p;
    }

    /** Sends every frame out of {@code d}, retrying while the TX ring is full. */
    void send(EthDevice d, List<byte[]> frames) throws InterruptedException {
        int i = 0;
        long end = System.nanoTime() + 30_000_000_000L;
        while (i < frames.size()) {
            int n = Math.min(batch.capacity(), frames.size() - i);
            if (!batch.alloc(pool, n, Mempool.LCORE_ANY)) {
                throw new AssertionError("peer pool empty");
            }
            for (int k = 0; k < n; k++) {
                byte[] f = frames.get(i + k);
                m.wrap(batch.handles()[k]);
                m.append(f.length);
                m.write(0, f, 0, f.length);
            }
            i += n;
            while (!batch.isEmpty()) {
                if (d.txBurst(0, batch) == 0) {
                    if (System.nanoTime() - end > 0) {
                        throw new AssertionError("the peer's TX ring stays full");
                    }
                    Thread.sleep(1);
                }
            }
        }
    }

    /**
     * Receives on {@code d} until {@code expected} frames came (or, with {@code expected} 0, until {@code quiet}
     * passes without one), at most 60 s; returns their bytes.
     */
    List<byte[]> receive(EthDevice d, int expected, Duration quiet) throws InterruptedException {
        List<byte[]> got = new ArrayList<>();
        long end = System.nanoTime() + 60_000_000_000L;
        long last = System.nanoTime();
        while (System.nanoTime() - end < 0) {
            if (expected > 0 && got.size() >= expected) {
                break;
            }
            int n = d.rxBurst(0, batch);
            if (n == 0) {
                if (expected == 0 && System.nanoTime() - last > quiet.toNanos()) {
                    break;
                }
                Thread.sleep(1);
                continue;
            }
            last = System.nanoTime();
            for (int k = 0; k < n; k++) {
                m.wrap(batch.handles()[k]);
                byte[] f = new byte[m.dataLen()];
                m.read(0, f, 0, f.length);
                got.add(f);
            }
            batch.free(Mempool.LCORE_ANY);
        }
        return got;
    }

    @Override
    public void close() {
        try {
            a.close();
            b.close();
            pool.close();
            ports.close();
            mem.close();
        } finally {
            sim.close();
        }
    }
}
