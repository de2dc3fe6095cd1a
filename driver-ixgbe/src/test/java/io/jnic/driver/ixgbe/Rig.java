package io.jnic.driver.ixgbe;

import io.jnic.devsim.Devsim;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.pci.vfiouser.VfioUserDevice;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The test bench: a devsim 82599 per port served over vfio-user in this JVM (the "hardware"), the driver
 * reaching it through jnic's vfio-user client exactly as it would a real device, a 4 KB-page memory group
 * and a mempool in it.
 */
final class Rig implements AutoCloseable {
    private static final AtomicInteger N = new AtomicInteger();
    final Devsim sim;
    final MemoryGroup mem;
    final Mempool pool;
    final EthPorts ports;
    final List<Path> sockets;
    final List<EthDevice> devs = new ArrayList<>();
    final List<io.jnic.pci.PciDevice> pcis = new ArrayList<>();

    Rig(Path dir, int nports, String wire, int mbufs) {
        this(dir, Devsim.Config.of(nports, wire), mbufs);
    }

    Rig(Path dir, Devsim.Config config, int mbufs) {
        TestResources.assumeLockable(mbufs * 4096L + (8L << 20)); // the memory group below is mlocked
        sim = Devsim.start(config);
        try {
            sockets = sim.serveVfioUser(dir);
            mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("ix" + Proc.getpid() + "x" + N.incrementAndGet() + "_")
                    .runtimeDir(dir).noHuge().size(mbufs * 4096L + (8L << 20)).iovaMode(IovaMode.ASSIGNED).build());
            MempoolConfig c = MempoolConfig.of("rig" + N.get(), 100 + N.get() % 800, mbufs);
            long page = mem.pageSize().bytes();
            Memzone z = mem.reserve("pool", Mempool.bytesNeeded(c, page), page);
            pool = Mempool.create(z.memory(), c, z::iova, page);
            ports = new EthPorts(mem);
        } catch (RuntimeException e) {
            sim.close();
            throw e;
        }
    }

    IxgbeDevice probe(int p) {
        VfioUserDevice pci = VfioUserDevice.connect(sockets.get(p));
        IxgbeDevice d = (IxgbeDevice) ports.probe(pci);
        devs.add(d);
        pcis.add(pci);
        return d;
    }

    /**
     * Probes, configures with {@code rxq}/{@code txq} queues of {@code ring} descriptors, starts, and waits for the
     * link (a frame sent on a port whose link is still training is lost, as on a real wire).
     */
    IxgbeDevice started(int p, io.jnic.ethdev.PortConfig cfg, int ring) {
        IxgbeDevice d = probe(p);
        d.configure(cfg);
        for (int q = 0; q < cfg.rxQueues(); q++) {
            d.rxQueueSetup(q, ring, pool);
        }
        for (int q = 0; q < cfg.txQueues(); q++) {
            d.txQueueSetup(q, ring);
        }
        d.start();
        if (!d.waitLink(java.time.Duration.ofSeconds(10)).up()) {
            throw new AssertionError(d.name() + ": no link 10 s after start");
        }
        return d;
    }

    /**
     * Waits until every port has its link: on a pair wire, probing (resetting) one end takes the link down on both,
     * so a port started earlier must be waited for again.
     */
    static void linksUp(IxgbeDevice... ds) {
        for (IxgbeDevice d : ds) {
            if (!d.waitLink(java.time.Duration.ofSeconds(10)).up()) {
                throw new AssertionError(d.name() + ": no link after 10 s");
            }
        }
    }

    /** Fills {@code b} with {@code n} frames of {@code len} bytes; each carries its sequence number at offset 14. */
    void frames(MbufBatch b, int n, int len, long seq, byte[] dst) {
        if (!b.alloc(pool, n, Mempool.LCORE_ANY)) {
            throw new IllegalStateException("pool empty: " + pool.availableCount());
        }
        Mbuf m = new Mbuf();
        for (int i = 0; i < n; i++) {
            m.wrap(b.get(i)).dataLen(len).pktLen(len);
            m.write(0, dst, 0, 6);
            m.setIntBE(6, 0x02aaaaaa).setShortBE(10, 0xaaaa).setShortBE(12, 0x88B5);
            m.setIntBE(14, (int) (seq + i)).setIntBE(18, len);
            for (int k = 22; k < len; k++) {
                m.setByte(k, (byte) (seq + i + k));
            }
        }
    }

    static long await(String what, long timeoutMs, java.util.function.LongSupplier done, long want) {
        long end = System.nanoTime() + timeoutMs * 1_000_000;
        long v;
        while ((v = done.getAsLong()) < want) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + ": " + v + " of " + want);
            }
            Thread.onSpinWait();
        }
        return v;
    }

    @Override
    public void close() {
        try {
            ports.close();
        } finally {
            pool.close();
            sim.close();
            mem.close();
        }
    }
}
