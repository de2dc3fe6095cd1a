package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.FlowRule;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.memory.mbuf.Mempool;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 82599's offloads end to end on a devsim pair: port A sends, port B receives (or the other way). What
 * arrives is checked here with checksums computed by this test, independently of the model's and the driver's.
 */
class IxgbeOffloadTest {
    private static final int ETH = 14;
    private static final long CK = MbufFlags.RX_IP_CKSUM_MASK | MbufFlags.RX_L4_CKSUM_MASK;
    private static final Set<RxOffload> RX_CK = EnumSet.of(RxOffload.IPV4_CKSUM, RxOffload.TCP_CKSUM, RxOffload.UDP_CKSUM);
    private static final Set<TxOffload> TX_ALL = EnumSet.of(TxOffload.IPV4_CKSUM, TxOffload.TCP_CKSUM, TxOffload.UDP_CKSUM,
            TxOffload.VLAN_INSERT, TxOffload.TCP_TSO, TxOffload.MULTI_SEGS);

    @TempDir
    Path dir;

    /** A received packet: its bytes (all segments), segment count, flags and tag. */
    record Got(byte[] data, int segs, long flags, int vlanTci) {
    }

    // ------------------------------------------------------------------ frames built here

    static byte[] eth(byte[] dst, int type, int payload) {
        ByteBuffer b = ByteBuffer.allocate(ETH + payload);
        b.put(dst).put(new byte[] {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}).putShort((short) type);
        return b.array();
    }

    /** IPv4 + TCP (proto 6) or UDP (17) with {@code payload} bytes, all checksums right. */
    static byte[] ipv4(byte[] dst, int proto, int payload, int seq, int tcpFlags, int ipId) {
        int l4 = proto == 6 ? 20 : 8;
        byte[] f = eth(dst, 0x0800, 20 + l4 + payload);
        ByteBuffer b = ByteBuffer.wrap(f);
        b.position(ETH);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4 + payload)).putShort((short) ipId).putShort((short) 0x4000)
                .put((byte) 64).put((byte) proto).putShort((short) 0).putInt(0x0a000001).putInt(0x0a000002);
        if (proto == 6) {
            b.putShort((short) 40000).putShort((short) 80).putInt(seq).putInt(7).put((byte) 0x50).put((byte) tcpFlags)
                    .putShort((short) 65535).putShort((short) 0).putShort((short) 0);
        } else {
            b.putShort((short) 40000).putShort((short) 53).putShort((short) (8 + payload)).putShort((short) 0);
        }
        for (int i = 0; i < payload; i++) {
            f[ETH + 20 + l4 + i] = (byte) (i * 31 + 7);
        }
        fixChecksums(f, ETH);
        return f;
    }

    static int sum(byte[] f, int off, int len, long acc) {
        long s = acc;
        for (int i = 0; i < len; i += 2) {
            s += (f[off + i] & 0xFF) << 8 | (i + 1 < len ? f[off + i + 1] & 0xFF : 0);
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    static int u16(byte[] f, int at) {
        return (f[at] & 0xFF) << 8 | f[at + 1] & 0xFF;
    }

    static void put16(byte[] f, int at, int v) {
        f[at] = (byte) (v >>> 8);
        f[at + 1] = (byte) v;
    }

    /** Sets the IPv4 header and TCP/UDP checksums of the packet at {@code ip}. */
    static void fixChecksums(byte[] f, int ip) {
        put16(f, ip + 10, 0);
        put16(f, ip + 10, ~sum(f, ip, 20, 0) & 0xFFFF);
        int proto = f[ip + 9] & 0xFF;
        int l4Len = u16(f, ip + 2) - 20;
        int at = ip + 20 + (proto == 6 ? 16 : 6);
        put16(f, at, 0);
        int c = ~sum(f, ip + 20, l4Len, pseudo(f, ip, proto, l4Len)) & 0xFFFF;
        put16(f, at, proto == 17 && c == 0 ? 0xFFFF : c);
    }

    static long pseudo(byte[] f, int ip, int proto, int l4Len) {
        return sum(f, ip + 12, 8, 0) + proto + l4Len;
    }

    static boolean ipOk(byte[] f, int ip) {
        return sum(f, ip, 20, 0) == 0xFFFF;
    }

    static boolean l4Ok(byte[] f, int ip) {
        int proto = f[ip + 9] & 0xFF;
        int l4Len = u16(f, ip + 2) - 20;
        return sum(f, ip + 20, l4Len, pseudo(f, ip, proto, l4Len)) == 0xFFFF;
    }

    // ------------------------------------------------------------------ moving packets

    /** One packet of {@code f}, in segments of at most {@code segMax} bytes (a chain when it needs several). */
    static long packet(Rig rig, byte[] f, int segMax) {
        Mbuf m = new Mbuf();
        long head = 0;
        Mbuf h = new Mbuf();
        for (int off = 0; off < f.length; off += segMax) {
            int n = Math.min(segMax, f.length - off);
            long s = rig.pool.alloc(Mempool.LCORE_ANY);
            assertTrue(s != 0, "pool empty");
            m.wrap(s).dataLen(n).pktLen(n);
            m.write(0, f, off, n);
            if (head == 0) {
                head = s;
            } else {
                assertTrue(h.wrap(head).chain(s));
            }
        }
        return head;
    }

    static void send(IxgbeDevice d, long... pkts) {
        MbufBatch b = new MbufBatch(Math.max(1, pkts.length));
        for (long p : pkts) {
            b.add(p);
        }
        long end = System.nanoTime() + 5_000_000_000L;
        while (!b.isEmpty()) {
            d.txBurst(0, b);
            if (System.nanoTime() > end) {
                throw new AssertionError("TX ring did not take " + b.count() + " packets in 5 s");
            }
        }
    }

    /** Receives {@code n} packets on queue 0 (5 s at most), their mbufs freed. */
    static List<Got> receive(IxgbeDevice d, int n) {
        return receive(d, 0, n);
    }

    /** Receives {@code n} packets on queue {@code q} (5 s at most), their mbufs freed. */
    static List<Got> receive(IxgbeDevice d, int q, int n) {
        List<Got> out = new ArrayList<>();
        MbufBatch in = new MbufBatch(32);
        Mbuf m = new Mbuf();
        Mbuf s = new Mbuf();
        long end = System.nanoTime() + 5_000_000_000L;
        while (out.size() < n) {
            int k = d.rxBurst(q, in);
            for (int i = 0; i < k; i++) {
                m.wrap(in.get(i));
                byte[] data = new byte[m.pktLen()];
                int at = 0;
                int segs = 0;
                for (long h = in.get(i); h != 0; h = s.next()) {
                    s.wrap(h);
                    s.read(0, data, at, s.dataLen());
                    at += s.dataLen();
                    segs++;
                }
                assertEquals(m.pktLen(), at, "pkt_len is the sum of the segments' data_len");
                assertEquals(m.nbSegs(), segs, "nb_segs");
                out.add(new Got(data, segs, m.olFlags(), m.vlanTci()));
            }
            in.free(Mempool.LCORE_ANY);
            if (System.nanoTime() > end) {
                throw new AssertionError("received " + out.size() + " of " + n + " packets in 5 s");
            }
        }
        return out;
    }

    static void clean(Rig rig) {
        for (var d : rig.devs) {
            d.close();
        }
        assertEquals(0, rig.pool.inUseCount(), rig.pool.audit(l -> true).toString());
    }

    // ------------------------------------------------------------------ RX checksums

    @Test
    void receivedChecksumsGiveGoodBadOrUnknownFlags() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1).withRxOffloads(RX_CK), 256);
            Rig.linksUp(a, b);
            byte[] dst = b.macAddress().octets();
            byte[] tcp = ipv4(dst, 6, 100, 1, 0x18, 1);
            byte[] badIp = tcp.clone();
            badIp[ETH + 10] ^= 0x5A;
            byte[] badTcp = tcp.clone();
            badTcp[ETH + 20 + 16] ^= 0x33;
            byte[] udp = ipv4(dst, 17, 60, 0, 0, 2);
            byte[] badUdp = udp.clone();
            badUdp[ETH + 20 + 8 + 5] ^= 0x01; // payload changed, checksum kept
            byte[] udpNone = udp.clone();
            put16(udpNone, ETH + 20 + 6, 0);
            byte[] notIp = eth(dst, 0x88B5, 60);
            byte[] icmp = ipv4(dst, 6, 40, 1, 0, 3);
            icmp[ETH + 9] = 1; // ICMP: no L4 verdict
            fixIpOnly(icmp);
            byte[][] frames = {tcp, badIp, badTcp, udp, badUdp, udpNone, notIp, icmp};
            long[] want = {
                MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_GOOD,
                MbufFlags.RX_IP_CKSUM_BAD | MbufFlags.RX_L4_CKSUM_GOOD,
                MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_BAD,
                MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_GOOD,
                MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_BAD,
                MbufFlags.RX_IP_CKSUM_GOOD,
                0,
                MbufFlags.RX_IP_CKSUM_GOOD,
            };
            for (byte[] f : frames) {
                send(a, packet(rig, f, 2048));
            }
            List<Got> got = receive(b, frames.length);
            for (int i = 0; i < frames.length; i++) {
                assertEquals(want[i], got.get(i).flags() & CK, "frame " + i + " (bad checksums are delivered, flagged)");
                assertArrayEquals(frames[i], got.get(i).data(), "frame " + i);
            }
            clean(rig);
        }
    }

    private static void fixIpOnly(byte[] f) {
        put16(f, ETH + 10, 0);
        put16(f, ETH + 10, ~sum(f, ETH, 20, 0) & 0xFFFF);
    }

    @Test
    void aPortWithoutChecksumOffloadSetsNoChecksumFlags() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 256);
            Rig.linksUp(a, b);
            byte[] tcp = ipv4(b.macAddress().octets(), 6, 100, 1, 0x18, 1);
            byte[] badIp = tcp.clone();
            badIp[ETH + 10] ^= 0x5A;
            send(a, packet(rig, tcp, 2048), packet(rig, badIp, 2048));
            for (Got g : receive(b, 2)) {
                assertEquals(0, g.flags() & CK);
            }
            clean(rig);
        }
    }

    // ------------------------------------------------------------------ VLAN

    static byte[] tagged(byte[] untagged, int tci) {
        byte[] f = new byte[untagged.length + 4];
        System.arraycopy(untagged, 0, f, 0, 12);
        put16(f, 12, 0x8100);
        put16(f, 14, tci);
        System.arraycopy(untagged, 12, f, 16, untagged.length - 12);
        return f;
    }

    @Test
    void vlanTagsAreStrippedOnlyWhereAskedAndInsertedOnTransmit() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1).withTxOffloads(EnumSet.of(TxOffload.VLAN_INSERT)), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.VLAN_STRIP)), 256);
            Rig.linksUp(a, b);
            byte[] plain = ipv4(b.macAddress().octets(), 17, 80, 0, 0, 9);
            byte[] tag = tagged(plain, 0x2064);
            send(a, packet(rig, tag, 2048), packet(rig, plain, 2048));
            List<Got> got = receive(b, 2);
            assertArrayEquals(plain, got.get(0).data(), "the tag left the data");
            assertEquals(0x2064, got.get(0).vlanTci());
            assertEquals(MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED,
                    got.get(0).flags() & (MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED));
            assertArrayEquals(plain, got.get(1).data());
            assertEquals(0, got.get(1).flags() & (MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED));
            assertEquals(0, got.get(1).vlanTci());

            // TX insert: a sends an untagged packet asking for tag 5; the wire carries it tagged; b strips it
            long p = packet(rig, plain, 2048);
            new Mbuf().wrap(p).olFlags(MbufFlags.TX_VLAN).vlanTci(5);
            send(a, p);
            Got g = receive(b, 1).get(0);
            assertEquals(5, g.vlanTci());
            assertArrayEquals(plain, g.data());
            a.close();
            b.close();
            assertEquals(0, rig.pool.inUseCount());
        }
    }

    @Test
    void offloadsAskedForOneQueueActOnThatQueueOnly() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.probe(0);
            a.configure(PortConfig.of(1, 2));
            a.rxQueueSetup(0, 256, rig.pool);
            a.txQueueSetup(0, 256, EnumSet.of(TxOffload.VLAN_INSERT)); // queue 0 inserts tags, queue 1 cannot
            a.txQueueSetup(1, 256);
            a.start();
            IxgbeDevice b = rig.probe(1);
            b.configure(PortConfig.of(2, 1));
            b.rxQueueSetup(0, 256, rig.pool, EnumSet.of(RxOffload.VLAN_STRIP)); // queue 0 strips, queue 1 keeps tags
            b.rxQueueSetup(1, 256, rig.pool);
            b.txQueueSetup(0, 256);
            b.start();
            Rig.linksUp(a, b);
            assertEquals(EnumSet.of(RxOffload.VLAN_STRIP), b.rxQueueOffloads(0));
            assertEquals(Set.of(), b.rxQueueOffloads(1));
            assertEquals(EnumSet.of(TxOffload.VLAN_INSERT), a.txQueueOffloads(0));
            assertEquals(Set.of(), a.txQueueOffloads(1));
            b.flowCreate(FlowRule.fiveTuple(17, null, null, -1, 53, 1)); // UDP to port 53 on queue 1, the rest on 0

            byte[] tcp = ipv4(b.macAddress().octets(), 6, 60, 1, 0x10, 7);
            byte[] udp = ipv4(b.macAddress().octets(), 17, 60, 0, 0, 8);
            send(a, packet(rig, tagged(tcp, 0x0101), 2048), packet(rig, tagged(udp, 0x0202), 2048));
            Got q0 = receive(b, 0, 1).get(0);
            assertArrayEquals(tcp, q0.data(), "queue 0 stripped the tag");
            assertEquals(0x0101, q0.vlanTci());
            assertEquals(MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED, q0.flags() & (MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED));
            Got q1 = receive(b, 1, 1).get(0);
            assertArrayEquals(tagged(udp, 0x0202), q1.data(), "queue 1 kept the tag");
            assertEquals(0, q1.flags() & (MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED));

            // TX: queue 0 inserts the tag it is asked for; queue 1 refuses the same packet and keeps it
            long p = packet(rig, tcp, 2048);
            new Mbuf().wrap(p).olFlags(MbufFlags.TX_VLAN).vlanTci(0x0303);
            MbufBatch one = new MbufBatch(1);
            one.add(p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.txBurst(1, one));
            assertTrue(e.getMessage().contains("VLAN"), e.getMessage());
            assertEquals(1, one.count());
            while (!one.isEmpty()) {
                a.txBurst(0, one);
            }
            Got t = receive(b, 0, 1).get(0);
            assertEquals(0x0303, t.vlanTci());
            assertArrayEquals(tcp, t.data());
            clean(rig);
        }
    }

    @Test
    void aQueueCannotAskForAPortWideOffloadOrOneThePortLacks() {
        try (Rig rig = new Rig(dir, 1, "loop", 1024)) {
            IxgbeDevice a = rig.probe(0);
            assertEquals(EnumSet.of(RxOffload.VLAN_STRIP, RxOffload.SCATTER), a.info().rxQueueOffloads());
            assertEquals(TX_ALL, a.info().txQueueOffloads());
            a.configure(PortConfig.of(1, 1).withRxOffloads(RX_CK));
            // RXCSUM is one register for the port (8.2.3.7.5): per queue it is refused, naming the way to ask for it
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.rxQueueSetup(0, 256, rig.pool, EnumSet.of(RxOffload.RSS_HASH)));
            assertTrue(e.getMessage().contains("port-wide") && e.getMessage().contains("withRxOffloads"), e.getMessage());
            EnumSet<RxOffload> lacking = EnumSet.complementOf(EnumSet.copyOf(a.info().rxOffloads()));
            if (!lacking.isEmpty()) {
                IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                        () -> a.rxQueueSetup(0, 256, rig.pool, lacking));
                assertTrue(l.getMessage().contains("not supported"), l.getMessage());
            }
            // the port's own offloads may be named again; nothing was set up by the refusals
            IllegalStateException s = assertThrows(IllegalStateException.class, a::start);
            assertTrue(s.getMessage().contains("not set up"), s.getMessage());
            a.rxQueueSetup(0, 256, rig.pool, EnumSet.of(RxOffload.IPV4_CKSUM, RxOffload.SCATTER));
            assertEquals(EnumSet.of(RxOffload.IPV4_CKSUM, RxOffload.TCP_CKSUM, RxOffload.UDP_CKSUM, RxOffload.SCATTER),
                    a.rxQueueOffloads(0));
            a.txQueueSetup(0, 256);
            // a new configuration forgets what the queues asked for
            a.configure(PortConfig.of(1, 1));
            assertEquals(Set.of(), a.rxQueueOffloads(0));
            clean(rig);
        }
    }

    @Test
    void withoutStripATaggedFrameKeepsItsTagAndHasNoVlanFlag() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1).withTxOffloads(EnumSet.of(TxOffload.VLAN_INSERT)), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1).withRxOffloads(RX_CK), 256);
            Rig.linksUp(a, b);
            byte[] plain = ipv4(b.macAddress().octets(), 6, 80, 5, 0x10, 9);
            long p = packet(rig, plain, 2048);
            new Mbuf().wrap(p).olFlags(MbufFlags.TX_VLAN).vlanTci(0x0123);
            send(a, p);
            Got g = receive(b, 1).get(0);
            assertArrayEquals(tagged(plain, 0x0123), g.data(), "inserted by the model, kept by b");
            assertEquals(0, g.flags() & (MbufFlags.RX_VLAN | MbufFlags.RX_VLAN_STRIPPED), "VP only when stripped");
            assertEquals(MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_GOOD, g.flags() & CK, "checksums through a tag");
            clean(rig);
        }
    }

    // ------------------------------------------------------------------ TX checksums

    @Test
    void transmitChecksumsAreFilledByThePortWhateverTheFieldsHeld() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1).withTxOffloads(TX_ALL), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 256);
            Rig.linksUp(a, b);
            byte[] dst = b.macAddress().octets();
            byte[] tcp = ipv4(dst, 6, 333, 99, 0x18, 40);
            byte[] udp = ipv4(dst, 17, 200, 0, 0, 41);
            List<byte[]> want = new ArrayList<>();
            int n = 0;
            for (byte[] f : new byte[][] {tcp, udp, tcp, udp}) {
                byte[] garbage = f.clone();
                int proto = f[ETH + 9];
                put16(garbage, ETH + 10, 0xBEEF);
                put16(garbage, ETH + 20 + (proto == 6 ? 16 : 6), n % 2 == 0 ? 0 : 0xDEAD);
                long p = packet(rig, garbage, n < 2 ? 2048 : 100); // the last two as chains
                new Mbuf().wrap(p).olFlags(MbufFlags.TX_IPV4 | MbufFlags.TX_IP_CKSUM
                        | (proto == 6 ? MbufFlags.TX_TCP_CKSUM : MbufFlags.TX_UDP_CKSUM)).txOffload(14, 20, proto == 6 ? 20 : 8, 0);
                send(a, p);
                want.add(f);
                n++;
            }
            List<Got> got = receive(b, want.size());
            for (int i = 0; i < want.size(); i++) {
                byte[] g = got.get(i).data();
                assertTrue(ipOk(g, ETH), "IPv4 checksum of packet " + i);
                assertTrue(l4Ok(g, ETH), "L4 checksum of packet " + i);
                assertArrayEquals(want.get(i), g, "packet " + i);
            }
            // one the port was not configured for
            IxgbeDevice c = b;
            long p = packet(rig, tcp, 2048);
            new Mbuf().wrap(p).olFlags(MbufFlags.TX_IPV4 | MbufFlags.TX_IP_CKSUM).txOffload(14, 20, 20, 0);
            MbufBatch one = new MbufBatch(1);
            one.add(p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.txBurst(0, one));
            assertTrue(e.getMessage().contains("withTxOffloads"), e.getMessage());
            assertEquals(1, one.count(), "the packet stays in the batch");
            one.free(Mempool.LCORE_ANY);
            clean(rig);
        }
    }

    // ------------------------------------------------------------------ TSO

    @Test
    void tsoCutsA64KPayloadIntoSegmentsWithTheirOwnHeaders() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1).withTxOffloads(TX_ALL), 512);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1).withRxOffloads(RX_CK), 512);
            Rig.linksUp(a, b);
            int payload = 65536;
            int mss = 1448;
            int seq0 = 0x7FFFF000; // wraps past 2^31 on the way
            int id0 = 0xFFF0; // wraps past 65535
            byte[] big = ipv4(b.macAddress().octets(), 6, payload, seq0, 0x19 /* FIN PSH ACK */, id0);
            put16(big, ETH + 2, 0); // total length: meaningless for a TSO packet, the port writes each segment's
            put16(big, ETH + 10, 0x1234);
            put16(big, ETH + 20 + 16, 0x4321); // garbage: the driver puts the pseudo header's sum
            long p = packet(rig, big, 2048); // 33 segments
            assertEquals(33, new Mbuf().wrap(p).nbSegs());
            new Mbuf().wrap(p).olFlags(MbufFlags.TX_IPV4 | MbufFlags.TX_IP_CKSUM | MbufFlags.TX_TCP_SEG)
                    .txOffload(14, 20, 20, mss);
            send(a, p);
            int n = (payload + mss - 1) / mss;
            List<Got> got = receive(b, n);
            for (int i = 0; i < n; i++) {
                byte[] g = got.get(i).data();
                int chunk = Math.min(mss, payload - i * mss);
                assertEquals(54 + chunk, g.length, "segment " + i + " size");
                assertEquals(20 + 20 + chunk, u16(g, ETH + 2), "segment " + i + " IP total length");
                assertEquals((id0 + i) & 0xFFFF, u16(g, ETH + 4), "segment " + i + " IP id");
                assertEquals(seq0 + i * mss, ByteBuffer.wrap(g, ETH + 24, 4).getInt(), "segment " + i + " sequence");
                int flags = g[ETH + 33] & 0xFF;
                assertEquals(i == n - 1 ? 0x19 : 0x10, flags, "segment " + i + " TCP flags (FIN/PSH on the last only)");
                assertTrue(ipOk(g, ETH), "segment " + i + " IP checksum");
                assertTrue(l4Ok(g, ETH), "segment " + i + " TCP checksum");
                assertEquals(MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_GOOD, got.get(i).flags() & CK);
                for (int k = 0; k < chunk; k++) {
                    if (g[54 + k] != big[54 + i * mss + k]) {
                        throw new AssertionError("segment " + i + " payload byte " + k);
                    }
                }
            }
            clean(rig);
        }
    }

    // ------------------------------------------------------------------ jumbo frames and chains

    @Test
    void jumboFramesCrossBothWaysAsChainsAndTxChainsOfTwoToFiveSegmentsArriveWhole() {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            PortConfig cfg = PortConfig.of(1, 1).withMtu(9000).withRxOffloads(EnumSet.of(RxOffload.SCATTER))
                    .withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS));
            IxgbeDevice a = rig.started(0, cfg, 256);
            IxgbeDevice b = rig.started(1, cfg, 256);
            Rig.linksUp(a, b);
            IxgbeDevice[][] ways = {{a, b}, {b, a}};
            for (IxgbeDevice[] w : ways) {
                byte[] dst = w[1].macAddress().octets();
                int[] sizes = {9014, 3000, 5000, 7000, 9014, 60, 2048, 2049}; // 9014: MTU 9000 + 14 header bytes (no FCS)
                List<byte[]> sent = new ArrayList<>();
                for (int s : sizes) {
                    byte[] f = eth(dst, 0x88B5, s - ETH);
                    for (int i = ETH; i < s; i++) {
                        f[i] = (byte) (i * 7 + s);
                    }
                    sent.add(f);
                    send(w[0], packet(rig, f, 2048));
                }
                // TX chains of 2..5 segments of small pieces
                for (int k = 2; k <= 5; k++) {
                    byte[] f = eth(dst, 0x88B5, 1000 - ETH);
                    for (int i = ETH; i < f.length; i++) {
                        f[i] = (byte) (i + k);
                    }
                    sent.add(f);
                    long p = packet(rig, f, (f.length + k - 1) / k);
                    assertEquals(k, new Mbuf().wrap(p).nbSegs());
                    send(w[0], p);
                }
                List<Got> got = receive(w[1], sent.size());
                for (int i = 0; i < sent.size(); i++) {
                    assertArrayEquals(sent.get(i), got.get(i).data(), "packet " + i);
                    assertEquals((sent.get(i).length + 2047) / 2048, got.get(i).segs(), "RX segments of packet " + i);
                }
            }
            clean(rig);
        }
    }

    /**
     * Chains, context descriptors and plain packets mixed for many turns of a 64-descriptor ring: the cleanup
     * in groups finds each group's end even where it falls inside a packet (RS goes on the packet's last
     * descriptor), every packet arrives, every mbuf comes back.
     */
    @Test
    void mixedChainsAndOffloadsWrapASmallRingManyTimes() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1).withTxOffloads(TX_ALL).withRxOffloads(RX_CK), 64);
            byte[] dst = d.macAddress().octets();
            int total = 3000;
            int got = 0;
            int sent = 0;
            MbufBatch out = new MbufBatch(8);
            MbufBatch in = new MbufBatch(32);
            Mbuf m = new Mbuf();
            long end = System.nanoTime() + 30_000_000_000L;
            while (got < total) {
                if (out.isEmpty() && sent < total && sent - got < 24) {
                    for (int k = 0; k < 4 && sent + k < total; k++) {
                        int i = sent + k;
                        byte[] f = ipv4(dst, 6, 100 + i % 300, i, 0x10, i);
                        boolean offload = i % 2 == 0;
                        if (offload) {
                            put16(f, ETH + 10, 0); // the port fills it
                        }
                        long p = packet(rig, f, i % 3 == 0 ? f.length : 60 + i % 7); // a third single, others chains (headers in the first)
                        if (offload) {
                            m.wrap(p).olFlags(MbufFlags.TX_IPV4 | MbufFlags.TX_IP_CKSUM | MbufFlags.TX_TCP_CKSUM
                                    | (i % 4 == 0 ? MbufFlags.TX_VLAN : 0)).vlanTci(i & 0xFFF).txOffload(14, 20, 20, 0);
                        }
                        out.add(p);
                    }
                    sent += out.count();
                }
                if (!out.isEmpty()) {
                    d.txBurst(0, out); // what the ring cannot take stays in the batch for the next turn
                }
                int n = d.rxBurst(0, in);
                for (int i = 0; i < n; i++) {
                    m.wrap(in.get(i));
                    assertEquals(MbufFlags.RX_IP_CKSUM_GOOD | MbufFlags.RX_L4_CKSUM_GOOD, m.olFlags() & CK, "packet " + got);
                    got++;
                }
                in.free(Mempool.LCORE_ANY);
                if (System.nanoTime() > end) {
                    throw new AssertionError("received " + got + " of " + total);
                }
            }
            assertEquals(total, d.stats().qIpackets[0]);
            clean(rig);
        }
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void badInputIsRefusedClearlyAndLeavesNothingBehind() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.probe(0);
            // an offload the port lacks (whichever that is now)
            EnumSet<RxOffload> lacking = EnumSet.complementOf(EnumSet.copyOf(a.info().rxOffloads()));
            if (!lacking.isEmpty()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> a.configure(PortConfig.of(1, 1).withRxOffloads(lacking)));
                assertTrue(e.getMessage().contains(lacking.iterator().next().name()), e.getMessage());
            }
            assertTrue(a.info().rxOffloads().containsAll(EnumSet.of(RxOffload.IPV4_CKSUM, RxOffload.TCP_CKSUM,
                    RxOffload.UDP_CKSUM, RxOffload.VLAN_STRIP, RxOffload.SCATTER, RxOffload.RSS_HASH)));
            assertTrue(a.info().txOffloads().containsAll(TX_ALL));
            // a pool whose 2 KB buffers cannot hold 9018-byte frames, without SCATTER: refused at setup
            a.configure(PortConfig.of(1, 1).withMtu(9000));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.rxQueueSetup(0, 256, rig.pool));
            assertTrue(e.getMessage().contains("SCATTER"), e.getMessage());
            // with the MTU back at 1500 the same port starts; MTU above 9710 is refused, as is 9000 with these buffers
            a.configure(PortConfig.of(1, 1).withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS)));
            a.rxQueueSetup(0, 256, rig.pool);
            a.txQueueSetup(0, 256);
            assertThrows(IllegalArgumentException.class, () -> a.mtu(9711));
            IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> a.mtu(9000));
            assertTrue(m.getMessage().contains("SCATTER"), m.getMessage());
            assertEquals(1500, a.mtu());
            a.mtu(2000 - 18); // fits 2 KB buffers
            assertEquals(1982, a.mtu());
            a.start();
            assertTrue(a.waitLink(java.time.Duration.ofSeconds(10)).up());
            // a chain longer than any packet may be: refused, kept in the batch
            byte[] f = eth(a.macAddress().octets(), 0x88B5, 100 - ETH);
            long p = packet(rig, f, 2); // 50 segments
            MbufBatch one = new MbufBatch(1);
            one.add(p);
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class, () -> a.txBurst(0, one));
            assertTrue(c.getMessage().contains("segments"), c.getMessage());
            assertEquals(1, one.count());
            one.free(Mempool.LCORE_ANY);
            clean(rig);
        }
    }

    @Test
    void aChainASmallRingCanNeverTakeIsRefusedAndOneItCanIsSent() {
        try (Rig rig = new Rig(dir, 1, "loop", 1024)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1).withTxOffloads(EnumSet.of(TxOffload.MULTI_SEGS)), 64);
            byte[] f = eth(a.macAddress().octets(), 0x88B5, 700 - ETH);
            long p = packet(rig, f, 20); // 35 segments: more than 64 - 32 descriptors
            MbufBatch one = new MbufBatch(1);
            one.add(p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.txBurst(0, one));
            assertTrue(e.getMessage().contains("can ever take"), e.getMessage());
            one.free(Mempool.LCORE_ANY);
            for (int i = 0; i < 5; i++) { // 31 segments fit, again and again
                send(a, packet(rig, f, 23));
                Got g = receive(a, 1).get(0);
                assertArrayEquals(f, g.data());
            }
            clean(rig);
        }
    }

    @Test
    void chainsWithoutMultiSegsAreRefused() {
        try (Rig rig = new Rig(dir, 1, "loop", 1024)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            long p = packet(rig, eth(a.macAddress().octets(), 0x88B5, 200), 100);
            MbufBatch one = new MbufBatch(1);
            one.add(p);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.txBurst(0, one));
            assertTrue(e.getMessage().contains("MULTI_SEGS"), e.getMessage());
            one.free(Mempool.LCORE_ANY);
            clean(rig);
        }
    }
}
