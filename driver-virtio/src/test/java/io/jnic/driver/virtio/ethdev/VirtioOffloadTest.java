package io.jnic.driver.virtio.ethdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.driver.virtio.Testpmd;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offloads of the virtio-net port against DPDK's vhost backend (testpmd's net_vhost with tso=1 and legacy offload
 * flags, io forwarding back to us): DPDK reads our virtio-net header into mbuf offload requests (it checks csum_start
 * and csum_offset against its own parse of the packet and drops requests that disagree), forwards them, and writes
 * its own header back, which we turn into mbuf flags. Frames larger than one receive buffer come back as chains.
 */
class VirtioOffloadTest {
    private static final AtomicInteger N = new AtomicInteger();
    private static final String VHOST_OFFLOADS = ",tso=1,legacy-ol-flags=1";

    @TempDir
    Path dir;
    MemoryGroup mem;
    Mempool pool;
    EthPorts ports;
    final Mbuf m = new Mbuf();

    @BeforeEach
    void setUp() {
        Testpmd.assumeInstalled();
        TestResources.assumeLockable(64L << 20);
        mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("vo" + Proc.getpid() + "x" + N.incrementAndGet() + "_")
                .runtimeDir(dir.resolve("run")).noHuge().size(64L << 20).iovaMode(IovaMode.ASSIGNED).build());
        pool = pool(MempoolConfig.of("vsmall", 800 + N.get() % 100, 2047));
        ports = new EthPorts(mem);
    }

    private Mempool pool(MempoolConfig c) {
        long page = mem.pageSize().bytes();
        Memzone z = mem.reserve("pool." + c.name(), Mempool.bytesNeeded(c, page), page);
        return Mempool.create(z.memory(), c, z::iova, page);
    }

    @AfterEach
    void tearDown() {
        if (ports != null) {
            ports.close();
        }
        if (pool != null) {
            assertEquals(0, pool.inUseCount(), "every mbuf back");
            pool.close();
        }
        if (mem != null) {
            mem.close();
        }
    }

    private EthDevice port(Testpmd be) {
        return ports.createVdev("net_virtio_user0,path=" + be.socket() + ",mac=02:00:00:00:00:01");
    }

    /**
     * More chains than the ring has slots, so that indirect tables are reused; split rings (tables per descriptor
     * slot, chained by NEXT) and packed rings (2.8.19: packed-format tables per buffer id).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", ",packed_vq=1"})
    void chainsReuseTheirTables(String ring) throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io")) {
            EthDevice p = ports.createVdev("net_virtio_user0,path=" + be.socket() + ring);
            start(p, PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.SCATTER))
                    .withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS)).withMtu(9000));
            for (int i = 0; i < 300; i++) { // more than the ring: tables are reused
                byte[] f = Frames.ipv4(17, 100 + (i * 331) % 8900, i);
                long h = echo(p, f, 0, 0);
                assertArrayEquals(f, bytes(h), "frame " + i + " of " + f.length + " bytes");
                Mempool.free(h, Mempool.LCORE_ANY);
            }
            assertEquals(0, p.stats().ierrors);
        }
    }

    private void start(EthDevice p, PortConfig c) {
        p.configure(c);
        p.rxQueueSetup(0, 256, pool);
        p.txQueueSetup(0, 256);
        p.start();
    }

    /** {@code frame} in a chain of mbufs of at most {@code segment} bytes each. */
    private long chainOf(byte[] frame, int segment) {
        long head = Mbuf.NULL;
        Mbuf h = new Mbuf();
        for (int o = 0; o < frame.length; o += segment) {
            int n = Math.min(segment, frame.length - o);
            long x = pool.alloc(Mempool.LCORE_ANY);
            assertTrue(x != 0, "mbufs left");
            m.wrap(x);
            assertEquals(0, m.append(n));
            m.write(0, frame, o, n);
            if (head == Mbuf.NULL) {
                head = x;
            } else {
                assertTrue(h.wrap(head).chain(x));
            }
        }
        return head;
    }

    private long echo(EthDevice p, byte[] frame, long flags, long txOffload) {
        return echo(p, frame, flags, txOffload, 0);
    }

    /**
     * Sends {@code frame} (in mbufs of up to 2000 bytes) with the given flags, lengths and VLAN tag; returns what came
     * back.
     */
    private long echo(EthDevice p, byte[] frame, long flags, long txOffload, int tci) {
        long h = chainOf(frame, 2000);
        m.wrap(h);
        m.olFlags(flags).txOffload(txOffload).vlanTci(tci);
        long back = echo(p, h);
        assertEquals(0, p.stats().oerrors, "nothing dropped on transmit");
        return back;
    }

    /** The packet's bytes over all its segments, checking the head's segment count and length against them. */
    private byte[] bytes(long h) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Mbuf s = new Mbuf().wrap(h);
        int pktLen = s.pktLen();
        int segs = s.nbSegs();
        int n = 0;
        for (long x = h; x != Mbuf.NULL; x = s.next()) {
            s.wrap(x);
            byte[] b = new byte[s.dataLen()];
            s.read(0, b, 0, b.length);
            out.writeBytes(b);
            n++;
        }
        assertEquals(segs, n, "nb_segs");
        assertEquals(pktLen, out.size(), "pkt_len");
        return out.toByteArray();
    }

    private static long l4(long flags) {
        return flags & MbufFlags.RX_L4_CKSUM_MASK;
    }

    @Test
    void checksumAndSegmentationRequestsRoundTripThroughDpdkVhost() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io", VHOST_OFFLOADS)) {
            EthDevice p = port(be);
            var rxo = p.info().rxOffloads();
            var txo = p.info().txOffloads();
            assertTrue(rxo.containsAll(EnumSet.of(RxOffload.TCP_CKSUM, RxOffload.UDP_CKSUM, RxOffload.TCP_LRO,
                    RxOffload.SCATTER, RxOffload.VLAN_STRIP)), rxo.toString());
            assertTrue(txo.containsAll(EnumSet.of(TxOffload.TCP_CKSUM, TxOffload.UDP_CKSUM, TxOffload.TCP_TSO,
                    TxOffload.VLAN_INSERT)), txo.toString());
            start(p, PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.TCP_CKSUM, RxOffload.UDP_CKSUM,
                    RxOffload.TCP_LRO)).withTxOffloads(EnumSet.of(TxOffload.TCP_CKSUM, TxOffload.UDP_CKSUM,
                    TxOffload.TCP_TSO, TxOffload.MULTI_SEGS)));
            long lens = Mbuf.packTxOffload(Frames.ETH, Frames.IP, 0, 0);
            for (int proto : new int[] {6, 17}) {
                byte[] f = Frames.ipv4(proto, 200, proto);
                long flags = MbufFlags.TX_IPV4 | (proto == 6 ? MbufFlags.TX_TCP_CKSUM : MbufFlags.TX_UDP_CKSUM);
                long h = echo(p, f, flags, lens);
                m.wrap(h);
                // DPDK took our csum_start/csum_offset as a checksum request and handed it back: partial checksum
                assertEquals(MbufFlags.RX_L4_CKSUM_NONE, l4(m.olFlags()), "proto " + proto);
                assertArrayEquals(f, bytes(h), "the pseudo-header sum stays for the next hop to finish");
                Mempool.free(h, Mempool.LCORE_ANY);
            }
            // a request whose csum_start does not match the packet's headers: DPDK drops it, nothing comes back asked
            byte[] f = Frames.ipv4(6, 100, 3);
            long h = echo(p, f, MbufFlags.TX_IPV4 | MbufFlags.TX_TCP_CKSUM, Mbuf.packTxOffload(Frames.ETH, 24, 0, 0));
            assertEquals(0, l4(m.wrap(h).olFlags()), "a wrong L3 length is refused by DPDK's check");
            Mempool.free(h, Mempool.LCORE_ANY);
            h = echo(p, f, 0, 0);
            assertEquals(0, m.wrap(h).olFlags(), "no request, nothing reported");
            Mempool.free(h, Mempool.LCORE_ANY);
            // TSO: a 64 KB TCP payload sent as a chain of 2000-byte mbufs, segment size 1448; back as one LRO packet
            // chained over 2 KB receive buffers
            byte[] t = Frames.tso(Frames.ipv4(6, 65535 - Frames.IP - Frames.TCP, 9));
            h = echo(p, t, MbufFlags.TX_IPV4 | MbufFlags.TX_TCP_SEG,
                    Mbuf.packTxOffload(Frames.ETH, Frames.IP, Frames.TCP, 1448));
            m.wrap(h);
            assertEquals(MbufFlags.RX_LRO, m.olFlags() & MbufFlags.RX_LRO, "DPDK forwarded it as a TSO packet");
            assertEquals(1448, Mbuf.tsoSegsz(m.txOffload()), "with our segment size");
            assertEquals(MbufFlags.RX_L4_CKSUM_NONE, l4(m.olFlags()));
            assertTrue(m.nbSegs() >= 32, "65549 bytes over 2 KB buffers: " + m.nbSegs() + " segments");
            byte[] back = bytes(h);
            // DPDK rewrote the TCP checksum field for TSO: the pseudo-header sum without the length (Intel's convention)
            int field = Frames.ETH + Frames.IP + 16;
            assertEquals(Frames.fold(Frames.sum(t, Frames.ETH + 12, 8, 0) + 6), Frames.field(back, field));
            back[field] = t[field];
            back[field + 1] = t[field + 1];
            assertArrayEquals(t, back, "every other byte as sent");
            Mempool.free(h, Mempool.LCORE_ANY);
            assertEquals(0, p.stats().ierrors);
        }
    }

    @Test
    void jumboFramesGoOutWholeAndComeBackAsChains() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io")) {
            EthDevice p = port(be);
            p.configure(PortConfig.of(1, 1).withMtu(9000));
            var e = assertThrows(IllegalArgumentException.class, () -> p.rxQueueSetup(0, 256, pool));
            assertTrue(e.getMessage().contains("frames of up to 9018 bytes (MTU 9000) do not fit one: configure RX offload "
                    + "SCATTER"), e.getMessage());
            p.configure(PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.SCATTER))
                    .withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS)).withMtu(9000));
            p.rxQueueSetup(0, 256, pool);
            p.txQueueSetup(0, 256);
            p.start();
            for (int len : new int[] {60, 2000, 2048, 2049, 4108, 4109, 9018}) {
                byte[] f = Frames.ipv4(17, len - Frames.ETH - Frames.IP - Frames.UDP, len);
                long h = echo(p, f, 0, 0); // out as ceil(len / 2000) segments
                // back in receive buffers of 12 + 2048 bytes
                // 2060 bytes per buffer: the first holds 2048 frame bytes behind the header, the others 2060
                assertEquals(len <= 2048 ? 1 : 1 + (len - 2048 + 2059) / 2060, m.wrap(h).nbSegs(), "segments for " + len);
                assertArrayEquals(f, bytes(h), len + "-byte frame");
                Mempool.free(h, Mempool.LCORE_ANY);
            }
            assertEquals(0, p.stats().ierrors);
            // a larger MTU on the stopped port is checked against the buffers the same way
            p.stop();
            p.configure(PortConfig.of(1, 1).withMtu(1500));
            p.rxQueueSetup(0, 256, pool);
            p.txQueueSetup(0, 256);
            e = assertThrows(IllegalArgumentException.class, () -> p.mtu(9000));
            assertTrue(e.getMessage().contains("configure RX offload SCATTER"), e.getMessage());
            assertEquals(1500, p.mtu(), "the refused MTU left the port as it was");
            p.mtu(2000);
            assertEquals(2000, p.mtu());
            e = assertThrows(IllegalArgumentException.class, () -> p.mtu(9699));
            assertTrue(e.getMessage().contains("MTU 9699 outside 68..9698"), e.getMessage());
        }
    }

    @Test
    void vlanTagsAreInsertedOnTheWireAndStrippedOnReceive() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io")) {
            EthDevice p = port(be);
            start(p, PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.VLAN_STRIP))
                    .withTxOffloads(EnumSet.of(TxOffload.VLAN_INSERT)));
            byte[] f = Frames.ipv4(17, 100, 1);
            long h = echo(p, f, MbufFlags.TX_VLAN, 0, 0x2005);
            m.wrap(h);
            assertEquals(MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED, m.olFlags());
            assertEquals(0x2005, m.vlanTci());
            assertArrayEquals(f, bytes(h), "the frame without its tag");
            Mempool.free(h, Mempool.LCORE_ANY);
            // without strip the tag the wire carried is in the data
            p.stop();
            start(p, PortConfig.of(1, 1).withTxOffloads(EnumSet.of(TxOffload.VLAN_INSERT)));
            h = echo(p, f, MbufFlags.TX_VLAN, 0, 0x0123);
            byte[] back = bytes(h);
            assertEquals(f.length + 4, back.length);
            assertEquals(0x8100, Frames.field(back, 12));
            assertEquals(0x0123, Frames.field(back, 14));
            assertEquals(0, m.wrap(h).olFlags());
            Mempool.free(h, Mempool.LCORE_ANY);
        }
    }

    /** Chains the port cannot carry are freed and counted in oerrors, not left to block the queue. */
    @Test
    void chainsThePortCannotCarryAreDroppedAndCounted() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io")) {
            EthDevice p = port(be);
            start(p, PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.SCATTER))
                    .withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS)));
            int posted = pool.inUseCount(); // the receive ring's buffers
            MbufBatch tx = new MbufBatch(2);
            tx.add(chainOf(new byte[34 * 60], 60)); // 34 segments: one more than an indirect table holds
            assertEquals(1, p.txBurst(0, tx));
            assertEquals(1, p.stats().oerrors);
            assertEquals(posted, pool.inUseCount(), "all 34 segments back in the pool");
            p.stop();
            start(p, PortConfig.of(1, 1)); // without MULTI_SEGS a chain of two goes nowhere
            long before = p.stats().oerrors;
            tx.add(chainOf(new byte[200], 100));
            assertEquals(1, p.txBurst(0, tx));
            assertEquals(1, p.stats().oerrors - before);
            assertEquals(posted, pool.inUseCount());
            byte[] f = Frames.ipv4(17, 100, 5);
            long back = echo(p, chainOf(f, 2000));
            assertArrayEquals(f, bytes(back), "single segments still go");
            Mempool.free(back, Mempool.LCORE_ANY);
        }
    }

    /** Sends the packet {@code h} and returns the first packet back. */
    private long echo(EthDevice p, long h) {
        MbufBatch tx = new MbufBatch(1);
        tx.add(h);
        MbufBatch rx = new MbufBatch(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!tx.isEmpty()) {
            p.txBurst(0, tx);
            assertTrue(System.nanoTime() < deadline, "transmit stuck");
        }
        while (p.rxBurst(0, rx) == 0) {
            assertTrue(System.nanoTime() < deadline, "the frame did not come back");
            Thread.onSpinWait();
        }
        return rx.get(0);
    }

    @Test
    void offloadsTheBackendLacksAreRefused() throws Exception {
        try (Testpmd be = Testpmd.start(dir, 1, "io")) { // no tso=1: DPDK's vhost then offers no TSO
            EthDevice p = port(be);
            assertTrue(!p.info().txOffloads().contains(TxOffload.TCP_TSO), p.info().txOffloads().toString());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> p.configure(PortConfig.of(1, 1).withTxOffloads(EnumSet.of(TxOffload.TCP_TSO))));
            assertTrue(e.getMessage().contains("TX offload TCP_TSO is not supported by net_virtio_user"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> p.configure(PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.VLAN_FILTER))));
            assertTrue(e.getMessage().contains("RX offload VLAN_FILTER is not supported"), e.getMessage());
            // the features are the device's: an offload it has is asked for on the port, not on one queue
            assertTrue(p.info().rxQueueOffloads().isEmpty() && p.info().txQueueOffloads().isEmpty());
            p.configure(PortConfig.of(1, 1));
            e = assertThrows(IllegalArgumentException.class,
                    () -> p.rxQueueSetup(0, 256, pool, EnumSet.of(RxOffload.VLAN_STRIP)));
            assertTrue(e.getMessage().contains("RX queue 0: offload VLAN_STRIP is port-wide on net_virtio_user")
                    && e.getMessage().contains("PortConfig.withRxOffloads"), e.getMessage());
        }
    }
}
