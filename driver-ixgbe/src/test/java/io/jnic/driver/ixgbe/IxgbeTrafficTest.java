package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.PortCounters;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.testsupport.Toeplitz;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IxgbeTrafficTest {
    @TempDir
    Path dir;

    /** Sends {@code total} numbered frames from tx to rx and checks each one arrives intact and in order. */
    static long pump(Rig rig, IxgbeDevice tx, IxgbeDevice rx, long total, int len) {
        MbufBatch out = new MbufBatch(32);
        MbufBatch in = new MbufBatch(32);
        Mbuf m = new Mbuf();
        byte[] dst = rx.macAddress().octets();
        long sent = 0;
        long got = 0;
        long idle = System.nanoTime();
        while (got < total) {
            // stay within the receive ring (half of it), so that the device never has to drop (DROP_EN)
            if (sent < total && out.isEmpty() && sent - got <= 96) {
                rig.frames(out, (int) Math.min(32, total - sent), len, sent, dst);
            }
            if (!out.isEmpty()) {
                sent += tx.txBurst(0, out);
            }
            int n = rx.rxBurst(0, in);
            for (int i = 0; i < n; i++) {
                m.wrap(in.get(i));
                assertEquals(len, m.dataLen(), "frame " + got);
                assertEquals(len, m.pktLen());
                assertEquals(rx.portId(), m.port());
                assertEquals((int) got, m.getIntBE(14), () -> "sequence; rx " + rx.stats() + " errors " + rx.stats().qErrors[0]
                        + " tx " + tx.stats() + "; " + rig.sim.statsText());
                assertEquals(len, m.getIntBE(18));
                for (int k = 22; k < len; k++) {
                    if (m.getByte(k) != (byte) (got + k)) {
                        throw new AssertionError("frame " + got + " byte " + k + " corrupted");
                    }
                }
                got++;
            }
            in.free(Mempool.LCORE_ANY);
            if (n > 0) {
                idle = System.nanoTime();
            } else if (System.nanoTime() - idle > 5_000_000_000L) {
                throw new AssertionError("no frame for 5 s: sent " + sent + ", received " + got + "; " + rig.sim.statsText());
            }
        }
        return got;
    }

    @Test
    void framesCrossThePairIntactAndStatsMatchTheWire() {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 512);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 512);
            Rig.linksUp(a, b);
            assertTrue(a.waitLink(Duration.ofSeconds(10)).up());
            assertTrue(b.waitLink(Duration.ofSeconds(10)).up());
            assertEquals(20_000, pump(rig, a, b, 20_000, 60));
            assertEquals(5_000, pump(rig, a, b, 5_000, 1514));
            PortStats sa = a.stats();
            PortStats sb = b.stats();
            PortCounters wa = rig.sim.port(0).counters();
            PortCounters wb = rig.sim.port(1).counters();
            assertEquals(25_000, sb.ipackets);
            assertEquals(wb.rxPackets(), sb.ipackets);
            assertEquals(wb.rxBytes(), sb.ibytes);
            assertEquals(wa.txPackets(), sa.opackets);
            assertEquals(wa.txBytes(), sa.obytes);
            assertEquals(25_000, sb.qIpackets[0]);
            assertEquals(20_000L * 60 + 5_000L * 1514, sb.qIbytes[0]);
            assertEquals(25_000, sa.qOpackets[0]);
            assertEquals(0, sb.imissed);
            assertEquals(0, sb.ierrors);
            assertEquals(25_000L, b.xstat("gprc"));
            b.statsReset();
            assertEquals(0, b.stats().ipackets);
            a.close();
            b.close();
            assertEquals(0, rig.pool.inUseCount(), rig.pool.audit(l -> true).toString());
        }
    }

    @Test
    void ringsWrapAroundForMillionsOfFramesOnALoopbackWire() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1), 256);
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            long n = 2_000_000;
            assertEquals(n, pump(rig, d, d, n, 64));
            assertEquals(n, d.stats().ipackets);
            d.close();
            assertTrue(rig.pool.audit(l -> true).isClean(), rig.pool.audit(l -> true).toString());
            assertEquals(0, rig.pool.inUseCount());
        }
    }

    @Test
    void rssSpreadsFlowsToTheQueuesTheRetaNames() {
        try (Rig rig = new Rig(dir, 2, "pair", 8192)) {
            int nq = 4;
            int[] reta = new int[128];
            for (int i = 0; i < 128; i++) {
                reta[i] = (i * 7 + 3) % nq; // not the default round robin
            }
            byte[] key = IxgbeDevice.DEFAULT_RSS_KEY.clone();
            key[5] ^= 0x5a;
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 512);
            IxgbeDevice b = rig.started(1, PortConfig.of(nq, 1)
                    .withRss(new RssConfig(key, reta, EnumSet.of(RssHashType.IPV4, RssHashType.IPV4_UDP))), 512);
            Rig.linksUp(a, b);
            assertTrue(b.waitLink(Duration.ofSeconds(10)).up());
            int flows = 200;
            MbufBatch out = new MbufBatch(32);
            Mbuf m = new Mbuf();
            byte[] dst = b.macAddress().octets();
            int[] expectQ = new int[flows];
            int[] expectHash = new int[flows];
            int[] perQueue = new int[nq];
            for (int f = 0; f < flows; f++) {
                int src = 0x0a000001 + f * 17;
                int dstIp = 0x0a0000fe;
                int sport = 1024 + f;
                int dport = 4789;
                byte[] in = new byte[12];
                java.nio.ByteBuffer.wrap(in).putInt(src).putInt(dstIp).putShort((short) sport).putShort((short) dport);
                expectHash[f] = Toeplitz.hash(key, in);
                expectQ[f] = reta[expectHash[f] & 127];
                perQueue[expectQ[f]]++;
            }
            for (int f = 0; f < flows; f += 32) {
                int n = Math.min(32, flows - f);
                rig.frames(out, n, 64, f, dst);
                for (int i = 0; i < n; i++) {
                    udp(m.wrap(out.get(i)), 0x0a000001 + (f + i) * 17, 0x0a0000fe, 1024 + f + i, 4789);
                }
                while (!out.isEmpty()) {
                    a.txBurst(0, out);
                }
            }
            MbufBatch in = new MbufBatch(32);
            int got = 0;
            int[] seen = new int[nq];
            long end = System.nanoTime() + 10_000_000_000L;
            while (got < flows && System.nanoTime() < end) {
                for (int q = 0; q < nq; q++) {
                    int n = b.rxBurst(q, in);
                    for (int i = 0; i < n; i++) {
                        m.wrap(in.get(i));
                        int f = m.getShortBE(34) - 1024; // UDP source port says which flow
                        assertEquals(expectQ[f], q, "flow " + f + " on queue " + q);
                        assertEquals(expectHash[f], m.rssHash(), "flow " + f + " hash");
                        seen[q]++;
                    }
                    got += n;
                    in.free(Mempool.LCORE_ANY);
                }
            }
            assertEquals(flows, got);
            assertEquals(java.util.Arrays.toString(perQueue), java.util.Arrays.toString(seen));
            PortStats s = b.stats();
            for (int q = 0; q < nq; q++) {
                assertEquals(perQueue[q], s.qIpackets[q]);
            }
        }
    }

    /** IPv6/TCP flows, sent from TX queue 1, hashed on addresses and ports (IPV6_TCP) over 8 RX queues. */
    @Test
    void rssHashesIpv6TcpFlows() {
        try (Rig rig = new Rig(dir, 2, "pair", 8192)) {
            int nq = 8;
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 2), 512);
            IxgbeDevice b = rig.started(1, PortConfig.of(nq, 1).withRss(RssConfig.of(EnumSet.of(RssHashType.IPV6_TCP))), 512);
            Rig.linksUp(a, b);
            assertTrue(b.waitLink(Duration.ofSeconds(10)).up());
            int flows = 128;
            MbufBatch out = new MbufBatch(32);
            Mbuf m = new Mbuf();
            int[] expectHash = new int[flows];
            for (int f = 0; f < flows; f += 32) {
                rig.frames(out, 32, 80, f, b.macAddress().octets());
                for (int i = 0; i < 32; i++) {
                    byte[] in = tcp6(m.wrap(out.get(i)), f + i);
                    expectHash[f + i] = Toeplitz.hash(IxgbeDevice.DEFAULT_RSS_KEY, in);
                }
                while (!out.isEmpty()) {
                    a.txBurst(1, out);
                }
            }
            MbufBatch in = new MbufBatch(32);
            int got = 0;
            int used = 0;
            long end = System.nanoTime() + 10_000_000_000L;
            while (got < flows && System.nanoTime() < end) {
                for (int q = 0; q < nq; q++) {
                    int n = b.rxBurst(q, in);
                    used |= n > 0 ? 1 << q : 0;
                    for (int i = 0; i < n; i++) {
                        int f = m.wrap(in.get(i)).getShortBE(54) - 1024;
                        assertEquals(expectHash[f], m.rssHash(), "flow " + f);
                        assertEquals((expectHash[f] & 127) % nq, q, "flow " + f + " queue (default RETA: entry i -> i % 8)");
                    }
                    got += n;
                    in.free(Mempool.LCORE_ANY);
                }
            }
            assertEquals(flows, got);
            assertEquals(0xFF, used, "128 flows reach all 8 queues");
            assertEquals(flows, a.stats().qOpackets[1]);
        }
    }

    /** IPv6 + TCP headers for flow f; returns the hash input (source, destination, source port, destination port). */
    static byte[] tcp6(Mbuf m, int f) {
        m.setShortBE(12, 0x86DD);
        m.setIntBE(14, 0x60000000).setShortBE(18, 20).setByte(20, (byte) 6).setByte(21, (byte) 64);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.allocate(36);
        for (int k = 0; k < 4; k++) {
            int src = k == 3 ? 0x1000 + f * 7 : 0x20010db8 + k;
            int dst = k == 3 ? 0x2 : 0x20010db8 + k;
            m.setIntBE(22 + 4 * k, src);
            m.setIntBE(38 + 4 * k, dst);
        }
        for (int k = 0; k < 4; k++) {
            in.putInt(m.getIntBE(22 + 4 * k));
        }
        for (int k = 0; k < 4; k++) {
            in.putInt(m.getIntBE(38 + 4 * k));
        }
        m.setShortBE(54, 1024 + f).setShortBE(56, 80).setIntBE(58, 1).setIntBE(62, 0).setShortBE(66, 0x5000)
                .setShortBE(68, 1000).setIntBE(70, 0);
        in.putShort((short) (1024 + f)).putShort((short) 80);
        return in.array();
    }

    /** Writes IPv4 + UDP headers (no options) after the Ethernet header. */
    static void udp(Mbuf m, int src, int dst, int sport, int dport) {
        m.setShortBE(12, 0x0800);
        m.setByte(14, (byte) 0x45).setByte(15, (byte) 0).setShortBE(16, 50).setShortBE(18, 0).setShortBE(20, 0);
        m.setByte(22, (byte) 64).setByte(23, (byte) 17).setShortBE(24, 0).setIntBE(26, src).setIntBE(30, dst);
        m.setShortBE(34, sport).setShortBE(36, dport).setShortBE(38, 30).setShortBE(40, 0);
    }

    /** Frames to an address the port does not have: dropped by the filter, taken when promiscuous or the MAC is set. */
    @Test
    void unicastFilterPromiscuousModeAndMacChange() {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 256);
            Rig.linksUp(a, b);
            byte[] other = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
            assertEquals(0, sendAndCount(rig, a, b, other, 10), "filtered");
            b.promiscuous(true);
            assertTrue(b.promiscuous());
            assertEquals(10, sendAndCount(rig, a, b, other, 10), "promiscuous");
            b.promiscuous(false);
            assertEquals(0, sendAndCount(rig, a, b, other, 10), "filtered again");
            b.macAddress(io.jnic.ethdev.MacAddress.of(other));
            assertEquals(10, sendAndCount(rig, a, b, other, 10), "after the MAC change");
            assertEquals(io.jnic.ethdev.MacAddress.of(other), io.jnic.ethdev.PortTable.of(rig.mem).mac(b.portId()));
            byte[] bcast = {-1, -1, -1, -1, -1, -1};
            assertEquals(10, sendAndCount(rig, a, b, bcast, 10), "broadcast (FCTRL.BAM)");
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> b.macAddress(io.jnic.ethdev.MacAddress.parse("03:00:00:00:00:01")));
            assertTrue(e.getMessage().endsWith("03:00:00:00:00:01 is a multicast address; a port's address must be unicast"));
        }
    }

    /**
     * Sends n frames to {@code dst}, then a marker frame to the receiver's own address; the wire keeps order, so
     * when the marker arrives every earlier frame was taken or filtered. Returns how many of the n arrived.
     */
    private static int sendAndCount(Rig rig, IxgbeDevice tx, IxgbeDevice rx, byte[] dst, int n) {
        MbufBatch out = new MbufBatch(n + 1);
        rig.frames(out, n, 64, 0, dst);
        MbufBatch marker = new MbufBatch(1);
        rig.frames(marker, 1, 64, 999_999, rx.macAddress().octets());
        out.add(marker.get(0));
        while (!out.isEmpty()) {
            tx.txBurst(0, out);
        }
        MbufBatch in = new MbufBatch(32);
        Mbuf m = new Mbuf();
        int got = 0;
        long end = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < end) {
            int k = rx.rxBurst(0, in);
            for (int i = 0; i < k; i++) {
                if (m.wrap(in.get(i)).getIntBE(14) == 999_999) {
                    in.free(Mempool.LCORE_ANY);
                    return got;
                }
                got++;
            }
            in.free(Mempool.LCORE_ANY);
        }
        throw new AssertionError("the marker frame never arrived; rx " + rx.stats() + ", tx " + tx.stats() + "; devsim: "
                + rig.sim.statsText());
    }
}
