package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.wire.GeneratorWire;
import io.jnic.devsim.wire.LoopWire;
import io.jnic.devsim.wire.PairWire;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Descriptor processing, RSS queue selection, drops and faults, driven through registers and DMA. */
class DataPathTest {
    Harness a;
    Harness b;

    @AfterEach
    void tearDown() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    void pair() {
        PairWire w = new PairWire();
        a = new Harness(0, Harness.mac(0xA), w.a());
        b = new Harness(1, Harness.mac(0xB), w.b());
        a.resetAndLinkUp();
        b.resetAndLinkUp();
    }

    /** RSS on: the datasheet key, RETA entry n = n % 16, hash types IPv4/IPv6 with TCP/UDP. */
    static void rss(Harness h) {
        byte[] k = ToeplitzTest.KEY;
        for (int i = 0; i < RSSRK_REGS; i++) {
            h.w(RSSRK0 + 4 * i, (k[4 * i] & 0xFF) | (k[4 * i + 1] & 0xFF) << 8 | (k[4 * i + 2] & 0xFF) << 16
                    | (k[4 * i + 3] & 0xFF) << 24);
        }
        for (int i = 0; i < RETA_REGS; i++) {
            int e = 4 * i;
            h.w(RETA0 + 4 * i, (e % 16) | ((e + 1) % 16) << 8 | ((e + 2) % 16) << 16 | ((e + 3) % 16) << 24);
        }
        h.w(MRQC, MRQC_MRQE_RSS | MRQC_RSS_FIELD_IPV4 | MRQC_RSS_FIELD_IPV4_TCP | MRQC_RSS_FIELD_IPV6
                | MRQC_RSS_FIELD_IPV6_TCP | MRQC_RSS_FIELD_IPV4_UDP | MRQC_RSS_FIELD_IPV6_UDP);
        h.w(RXCSUM, RXCSUM_PCSD);
    }

    static int[] ip4(String s) throws Exception {
        byte[] b = InetAddress.getByName(s).getAddress();
        return new int[] {b[0] & 0xFF, b[1] & 0xFF, b[2] & 0xFF, b[3] & 0xFF};
    }

    @Test
    void frameSentOnPortZeroArrivesOnTheRetaQueueOfPortOneWithItsHash() throws Exception {
        pair();
        rss(b);
        b.w(RXCTRL, RXCTRL_RXEN);
        long[] rings = new long[16];
        for (int q = 0; q < 16; q++) {
            rings[q] = b.setupRx(q, 8, 2, false);
        }
        long headWb = a.alloc(16);
        long tx = a.setupTx(0, 64, headWb);
        long buf = a.alloc(64 * 2048);
        int i = 0;
        for (Object[] v : ToeplitzTest.IPV4) {
            byte[] f = Frames.ipv4(Harness.mac(0xB), ip4((String) v[2]), ip4((String) v[0]), 6, (Integer) v[3],
                    (Integer) v[1], 80);
            a.txDescriptor(tx, i, buf + 2048L * i, f, true);
            i++;
        }
        for (Object[] v : ToeplitzTest.IPV6) {
            byte[] f = Frames.ipv6(Harness.mac(0xB), InetAddress.getByName((String) v[2]).getAddress(),
                    InetAddress.getByName((String) v[0]).getAddress(), 17, (Integer) v[3], (Integer) v[1], 100);
            a.txDescriptor(tx, i, buf + 2048L * i, f, true);
            i++;
        }
        a.w(txq(0) + TDT, i);
        a.poll(1);
        b.poll(1);
        assertEquals(i, a.r(txq(0) + TDH), "TDH advanced over every descriptor");
        assertEquals(i, a.at(headWb).get(ValueLayout.JAVA_INT, 0), "head write-back");
        for (int d = 0; d < i; d++) {
            assertEquals(TXD_STAT_DD, a.at(tx + 16L * d).get(Harness.LE_INT, 12) & TXD_STAT_DD, "TX DD " + d);
        }
        int[] seen = new int[16];
        int n = 0;
        for (Object[][] table : new Object[][][] {ToeplitzTest.IPV4, ToeplitzTest.IPV6}) {
            for (Object[] v : table) {
                int hash = (Integer) v[5];
                int q = (hash & 0x7F) % 16;
                int slot = seen[q]++;
                int status = b.rxStatus(rings[q], slot);
                // the checksum verdict bits (IPCS, L4CS, UDPCS: these frames carry no checksums) aside
                assertEquals(RXD_STAT_DD | RXD_STAT_EOP, status & 0xFFFFF & ~(RXD_STAT_IPCS | RXD_STAT_L4CS | RXD_STAT_UDPCS),
                        "DD and EOP of vector " + v[0]);
                assertEquals(hash, b.rxHash(rings[q], slot), "RSS hash in the write-back of " + v[0]);
                int info = b.rxInfo(rings[q], slot);
                boolean v4 = table == ToeplitzTest.IPV4;
                assertEquals(v4 ? RXD_RSSTYPE_IPV4_TCP : RXD_RSSTYPE_IPV6_UDP, info & 0xF);
                assertEquals(v4 ? RXD_PKTTYPE_IPV4 | RXD_PKTTYPE_TCP : RXD_PKTTYPE_IPV6 | RXD_PKTTYPE_UDP,
                        info & 0xFFF0);
                assertEquals(v4 ? 80 : 100, b.rxLength(rings[q], slot), "CRC stripped by default");
                n++;
            }
        }
        assertEquals(8, n);
        for (int q = 0; q < 16; q++) {
            assertEquals(seen[q], b.r(rxq(q) + RDH), "RDH of queue " + q);
        }
        assertEquals(8, a.r(GPTC));
        assertEquals(8, b.r(GPRC));
        // QPRC sits inside the mapped RX page: counted and cleared only through a trapped read
        assertEquals(0, b.r(QPRC0), "the mapped page shows no per-queue counters");
        assertEquals(8, b.dev.read32(QPRC0), "RQSMR maps every queue to statistics index 0 by default");
        assertEquals(0, b.dev.read32(QPRC0));
        assertEquals(8, a.r(QPTC0), "QPTC is trapped (0x8680)");
    }

    @Test
    void mrqcFieldBitsChooseTheHashFunction() throws Exception {
        a = new Harness(0, Harness.mac(0xA), new LoopWire());
        a.resetAndLinkUp();
        rss(a);
        a.w(RXCTRL, RXCTRL_RXEN);
        long[] rings = new long[16];
        for (int q = 0; q < 16; q++) {
            rings[q] = a.setupRx(q, 8, 2, false);
        }
        Object[] v = ToeplitzTest.IPV4[1];
        byte[] tcp = Frames.ipv4(Harness.mac(0xA), ip4((String) v[2]), ip4((String) v[0]), 6, (Integer) v[3],
                (Integer) v[1], 80);
        int[] used = new int[16];
        // only the IPv4 function enabled: a TCP segment is hashed on its addresses alone
        a.w(MRQC, MRQC_MRQE_RSS | MRQC_RSS_FIELD_IPV4);
        a.dev.receive(MemorySegment.ofArray(tcp), 0, tcp.length);
        int l3 = (Integer) v[4];
        int q = (l3 & 0x7F) % 16;
        assertEquals(l3, a.rxHash(rings[q], used[q]));
        assertEquals(RXD_RSSTYPE_IPV4, a.rxInfo(rings[q], used[q]++) & 0xF);
        // a fragment is never hashed on ports, even with the TCP function on
        byte[] frag = tcp.clone();
        frag[20] = 0x20; // MF
        a.w(MRQC, MRQC_MRQE_RSS | MRQC_RSS_FIELD_IPV4 | MRQC_RSS_FIELD_IPV4_TCP);
        a.dev.receive(MemorySegment.ofArray(frag), 0, frag.length);
        assertEquals(l3, a.rxHash(rings[q], used[q]));
        assertEquals(RXD_PKTTYPE_IPV4, a.rxInfo(rings[q], used[q]++) & 0xFFF0, "no L4 type for a fragment");
        // no function for this packet: no hash, queue 0
        a.w(MRQC, MRQC_MRQE_RSS | MRQC_RSS_FIELD_IPV6);
        a.dev.receive(MemorySegment.ofArray(tcp), 0, tcp.length);
        assertEquals(RXD_RSSTYPE_NONE, a.rxInfo(rings[0], used[0]) & 0xF);
        assertEquals(RXD_STAT_DD, a.rxStatus(rings[0], used[0]++) & RXD_STAT_DD);
        // multicast passes with FCTRL.MPE
        byte[] mcast = Frames.ipv4(new byte[] {0x01, 0, 0x5e, 0, 0, 1}, new int[] {1, 1, 1, 1}, new int[] {224, 0, 0, 1},
                17, 1, 2, 64);
        a.dev.receive(MemorySegment.ofArray(mcast), 0, mcast.length);
        assertEquals(0, a.dev.read32(MPRC));
        a.w(FCTRL, FCTRL_MPE);
        a.dev.receive(MemorySegment.ofArray(mcast), 0, mcast.length);
        assertEquals(1, a.dev.read32(MPRC));
        // or through the multicast table: 01:00:5e:00:00:01 with MO=0 -> vector (0x00 >> 4) | (0x01 << 4) = 0x10
        a.w(FCTRL, 0);
        a.w(MCSTCTRL, MCSTCTRL_MFE);
        a.dev.receive(MemorySegment.ofArray(mcast), 0, mcast.length);
        assertEquals(0, a.dev.read32(MPRC), "bit not set in the MTA");
        a.w(MTA0, 1 << 0x10);
        a.dev.receive(MemorySegment.ofArray(mcast), 0, mcast.length);
        assertEquals(1, a.dev.read32(MPRC), "MTA hit");
    }

    @Test
    void payloadArrivesIntactAndUnicastFilteringApplies() {
        pair();
        b.w(RXCTRL, RXCTRL_RXEN);
        long ring = b.setupRx(0, 8, 2, false);
        long firstBuf = b.at(ring).get(Harness.LE_LONG, 0);
        long tx = a.setupTx(0, 16, 0);
        long buf = a.alloc(4 * 2048);
        byte[] good = Frames.ipv4(Harness.mac(0xB), new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8}, 17, 7, 9, 200);
        for (int i = 60; i < 200; i++) {
            good[i] = (byte) i;
        }
        byte[] other = Frames.ipv4(Harness.mac(0xC), new int[] {1, 2, 3, 4}, new int[] {5, 6, 7, 8}, 17, 7, 9, 100);
        a.txDescriptor(tx, 0, buf, other, false);
        a.txDescriptor(tx, 1, buf + 2048, good, true);
        a.w(txq(0) + TDT, 2);
        a.poll(1);
        b.poll(1);
        byte[] got = new byte[200];
        MemorySegment.copy(b.at(firstBuf), ValueLayout.JAVA_BYTE, 0, got, 0, 200);
        assertArrayEquals(good, got, "only the frame for port 1's address was received, intact");
        assertEquals(0, b.rxStatus(ring, 1) & RXD_STAT_DD);
        assertEquals(0, a.at(tx).get(Harness.LE_INT, 12) & TXD_STAT_DD, "no RS, no write-back");
        assertEquals(TXD_STAT_DD, a.at(tx + 16).get(Harness.LE_INT, 12) & TXD_STAT_DD);
        b.w(FCTRL, FCTRL_UPE);
        a.txDescriptor(tx, 2, buf, other, true);
        a.w(txq(0) + TDT, 3);
        a.poll(1);
        b.poll(1);
        assertEquals(RXD_STAT_DD, b.rxStatus(ring, 1) & RXD_STAT_DD, "promiscuous: the other address passes");
    }

    @Test
    void jumboFramesSpanDescriptorsAndOversizeIsCounted() {
        pair();
        b.w(RXCTRL, RXCTRL_RXEN);
        b.w(FCTRL, FCTRL_BAM);
        long ring = b.setupRx(0, 16, 1, false);
        byte[] big = Frames.broadcast(3000);
        b.dev.receive(MemorySegment.ofArray(big), 0, big.length);
        assertEquals(1, b.r(ROC), "3004 bytes with FCS > 1518 without JUMBOEN");
        b.w(HLREG0, b.r(HLREG0) | HLREG0_JUMBOEN);
        b.w(MAXFRS, 9018 << MAXFRS_MFS_SHIFT);
        b.dev.receive(MemorySegment.ofArray(big), 0, big.length);
        b.poll(1);
        assertEquals(RXD_STAT_DD, b.rxStatus(ring, 0) & (RXD_STAT_DD | RXD_STAT_EOP));
        assertEquals(RXD_STAT_DD, b.rxStatus(ring, 1) & (RXD_STAT_DD | RXD_STAT_EOP));
        assertEquals(RXD_STAT_DD | RXD_STAT_EOP, b.rxStatus(ring, 2) & (RXD_STAT_DD | RXD_STAT_EOP));
        assertEquals(1024, b.rxLength(ring, 0));
        assertEquals(3000 - 2048, b.rxLength(ring, 2));
        assertEquals(3, b.r(rxq(0) + RDH));
    }

    @Test
    void noDescriptorsWithDropEnableDropsAndCountsPerQueue() {
        pair();
        b.w(RXCTRL, RXCTRL_RXEN);
        b.w(FCTRL, FCTRL_BAM);
        b.setupRx(0, 8, 2, true); // 7 usable descriptors (RDT = 7)
        byte[] f = Frames.broadcast(64);
        for (int i = 0; i < 10; i++) {
            b.dev.receive(MemorySegment.ofArray(f), 0, f.length);
        }
        b.poll(1);
        assertEquals(7, b.r(rxq(0) + RDH));
        assertEquals(3, b.dev.read32(QPRDC0), "per-queue drop counter (trapped read)");
        assertEquals(3, b.r(RNBC0));
        assertEquals(0, b.r(MPC0));
    }

    @Test
    void noDescriptorsWithoutDropEnableHoldsFramesUntilTheDriverGivesMore() {
        pair();
        b.w(RXCTRL, RXCTRL_RXEN);
        b.w(FCTRL, FCTRL_BAM);
        long ring = b.setupRx(0, 8, 2, false);
        byte[] f = Frames.broadcast(1000);
        for (int i = 0; i < 10; i++) {
            b.dev.receive(MemorySegment.ofArray(f), 0, f.length);
        }
        b.poll(1);
        assertEquals(7, b.r(rxq(0) + RDH));
        assertEquals(0, b.dev.read32(QPRDC0));
        // the driver takes the 7 frames, re-arms those descriptors (read format) and moves the tail
        for (int i = 0; i < 7; i++) {
            b.armRx(ring, i, b.alloc(2048));
        }
        b.w(rxq(0) + RDT, 6);
        b.poll(1);
        assertEquals(2, b.r(rxq(0) + RDH), "the 3 held frames went to descriptors 7, 0 and 1");
        assertEquals(RXD_STAT_DD, b.rxStatus(ring, 7) & RXD_STAT_DD);
        assertEquals(RXD_STAT_DD, b.rxStatus(ring, 1) & RXD_STAT_DD);
        assertEquals(0, b.rxStatus(ring, 2) & RXD_STAT_DD);
        // fill the 512 KB packet buffer: the rest is missed
        for (int i = 0; i < 600; i++) {
            b.dev.receive(MemorySegment.ofArray(f), 0, f.length);
        }
        assertTrue(b.r(MPC0) > 0, "packet buffer overrun counted in MPC");
        assertEquals(EICR_RX_MISS, b.r(EICR) & EICR_RX_MISS);
    }

    static int countDone(Harness h, long ring, int n) {
        int c = 0;
        for (int i = 0; i < n; i++) {
            if ((h.rxStatus(ring, i) & RXD_STAT_DD) != 0) {
                c++;
            }
        }
        return c;
    }

    @Test
    void runtsArePaddedOnTransmitUnlessPaddingIsOff() {
        PairWire w = new PairWire();
        a = new Harness(0, Harness.mac(0xA), w.a());
        b = new Harness(1, Harness.mac(0xB), w.b());
        a.resetAndLinkUp();
        b.resetAndLinkUp();
        b.w(RXCTRL, RXCTRL_RXEN);
        b.w(FCTRL, FCTRL_BAM);
        long ring = b.setupRx(0, 8, 2, false);
        long tx = a.setupTx(0, 8, 0);
        long buf = a.alloc(4096);
        a.txDescriptor(tx, 0, buf, Frames.broadcast(42), true);
        a.w(txq(0) + TDT, 1);
        a.poll(1);
        assertEquals(60, b.rxLength(ring, 0), "TXPADEN pads to 64 bytes with FCS");
        a.w(HLREG0, a.r(HLREG0) & ~HLREG0_TXPADEN);
        a.txDescriptor(tx, 1, buf, Frames.broadcast(42), true);
        a.w(txq(0) + TDT, 2);
        a.poll(1);
        assertEquals(1, b.r(RUC), "an unpadded 46-byte frame is a runt at the receiver");
    }

    @Test
    void crcIsKeptWhenStrippingIsOff() {
        pair();
        b.w(RXCTRL, RXCTRL_RXEN);
        b.w(FCTRL, FCTRL_BAM);
        b.w(HLREG0, b.r(HLREG0) & ~HLREG0_RXCRCSTRP);
        long ring = b.setupRx(0, 8, 2, false);
        byte[] f = Frames.broadcast(100);
        b.dev.receive(MemorySegment.ofArray(f), 0, f.length);
        assertEquals(104, b.rxLength(ring, 0));
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(f);
        long buf = 0;
        // the buffer address was overwritten by the write-back: find it from the harness layout (first buffer)
        buf = ring + 8 * 16 + 0; // setupRx allocates buffers right after the ring, 128-byte aligned
        buf = (buf + 127) & ~127L;
        assertEquals((int) crc.getValue(), b.at(buf).get(Harness.LE_INT, 100) , "FCS appended, little-endian");
    }

    @Test
    void linkDownFaultStopsTrafficAndRaisesLsc() {
        pair();
        b.w(GPIE, GPIE_MSIX_MODE);
        b.w(IVAR_MISC, (IVAR_ALLOC_VAL | 1) << 8);
        b.w(EIMS, EICR_LSC);
        b.vectors.clear();
        b.dev.faultLinkDown(true);
        b.poll(1);
        assertEquals(0, b.r(LINKS) & LINKS_UP);
        assertEquals(0, b.r(STATUS) & STATUS_LINK_UP);
        assertEquals(java.util.List.of(1), b.vectors);
        a.poll(1);
        assertEquals(LINKS_UP, a.r(LINKS) & LINKS_UP, "the peer's link stays up (it only lost frames)");
        b.dev.faultLinkDown(false);
        b.poll(1);
        assertEquals(LINKS_UP, b.r(LINKS) & LINKS_UP);
        assertEquals(java.util.List.of(1, 1), b.vectors, "link up again: a second LSC");
    }

    @Test
    void stallResetAndReversedWriteBackFaults() {
        pair();
        b.w(RXCTRL, RXCTRL_RXEN);
        b.w(FCTRL, FCTRL_BAM);
        long ring = b.setupRx(0, 16, 2, true);
        long tx = a.setupTx(0, 16, 0);
        long buf = a.alloc(8 * 2048);
        b.dev.faultStall(true);
        for (int i = 0; i < 4; i++) {
            a.txDescriptor(tx, i, buf + 2048L * i, Frames.broadcast(64), true);
        }
        a.w(txq(0) + TDT, 4);
        a.dev.faultStall(true);
        a.poll(3);
        assertEquals(0, a.r(txq(0) + TDH), "a stalled device does no DMA");
        a.dev.faultStall(false);
        b.dev.faultStall(false);
        b.dev.faultReverseWriteBack(true);
        a.poll(1);
        b.poll(1);
        assertEquals(4, countDone(b, ring, 16));
        b.dev.faultDropProbability(1.0);
        for (int i = 4; i < 8; i++) {
            a.txDescriptor(tx, i, buf + 2048L * i, Frames.broadcast(64), true);
        }
        a.w(txq(0) + TDT, 8);
        a.poll(1);
        assertEquals(4, countDone(b, ring, 16), "every frame lost on the wire");
        assertEquals(4, b.dev.counters().faultDrops());
        b.dev.faultReset();
        assertEquals(CTRL_RST, b.r(CTRL) & CTRL_RST);
        b.poll(1);
        assertEquals(0, b.r(rxq(0) + RXDCTL) & RXDCTL_ENABLE, "an unrequested reset disables the queues");
        assertEquals(0, b.r(RXCTRL));
    }

    @Test
    void transmitGathersBuffersSkipsContextDescriptorsAndTakesLegacyOnes() {
        a = new Harness(0, Harness.mac(0xA), new LoopWire());
        a.resetAndLinkUp();
        a.w(RXCTRL, RXCTRL_RXEN);
        a.w(FCTRL, FCTRL_BAM);
        long ring = a.setupRx(0, 8, 2, false);
        long firstBuf = a.at(ring).get(Harness.LE_LONG, 0);
        long tx = a.setupTx(0, 8, 0);
        byte[] f = Frames.broadcast(300);
        for (int i = 42; i < 300; i++) {
            f[i] = (byte) (i * 7);
        }
        long b0 = a.alloc(2048);
        long b1 = a.alloc(2048);
        a.at(b0).asSlice(0, 100).copyFrom(MemorySegment.ofArray(f).asSlice(0, 100));
        a.at(b1).asSlice(0, 200).copyFrom(MemorySegment.ofArray(f).asSlice(100, 200));
        int data = TXD_CMD_IFCS | TXD_CMD_DEXT | (TXD_DTYP_DATA << TXD_DTYP_SHIFT);
        MemorySegment d0 = a.at(tx);
        d0.set(Harness.LE_LONG, 0, 0); // advanced context descriptor: consumed, no data
        d0.set(Harness.LE_INT, 8, TXD_CMD_DEXT | (TXD_DTYP_CTXT << TXD_DTYP_SHIFT));
        MemorySegment d1 = a.at(tx + 16);
        d1.set(Harness.LE_LONG, 0, b0);
        d1.set(Harness.LE_INT, 8, data | 100);
        MemorySegment d2 = a.at(tx + 32);
        d2.set(Harness.LE_LONG, 0, b1);
        d2.set(Harness.LE_INT, 8, data | TXD_CMD_EOP | TXD_CMD_RS | 200);
        MemorySegment d3 = a.at(tx + 48); // legacy descriptor: length 15:0, CMD in 31:24, DEXT clear
        d3.set(Harness.LE_LONG, 0, b0);
        d3.set(Harness.LE_INT, 8, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS | 100);
        d3.set(Harness.LE_INT, 12, 0);
        a.w(txq(0) + TDT, 4);
        a.poll(1);
        assertEquals(300, a.rxLength(ring, 0), "two buffers, one frame");
        byte[] got = new byte[300];
        MemorySegment.copy(a.at(firstBuf), ValueLayout.JAVA_BYTE, 0, got, 0, 300);
        assertArrayEquals(f, got);
        assertEquals(100, a.rxLength(ring, 1), "the legacy descriptor's frame");
        assertEquals(0, a.at(tx + 16).get(Harness.LE_INT, 12) & TXD_STAT_DD, "no RS on the first buffer");
        assertEquals(TXD_STAT_DD, a.at(tx + 32).get(Harness.LE_INT, 12) & TXD_STAT_DD);
        assertEquals(TXD_STAT_DD, a.at(tx + 48).get(Harness.LE_INT, 12) & TXD_STAT_DD);
        assertEquals(4, a.r(txq(0) + TDH));
        assertEquals(2, a.r(GPTC));
    }

    @Test
    void loopbackAndMacLoopbackReturnFrames() {
        a = new Harness(0, Harness.mac(0xA), new LoopWire());
        a.resetAndLinkUp();
        a.w(RXCTRL, RXCTRL_RXEN);
        a.w(FCTRL, FCTRL_BAM);
        long ring = a.setupRx(0, 8, 2, false);
        long tx = a.setupTx(0, 8, 0);
        long buf = a.alloc(2048);
        a.txDescriptor(tx, 0, buf, Frames.broadcast(64), true);
        a.w(txq(0) + TDT, 1);
        a.poll(1);
        assertEquals(RXD_STAT_DD, a.rxStatus(ring, 0) & RXD_STAT_DD);
    }

    @Test
    void macLoopbackKeepsFramesOffTheWire() {
        pair();
        for (Harness h : new Harness[] {a, b}) {
            h.w(RXCTRL, RXCTRL_RXEN);
            h.w(FCTRL, FCTRL_BAM);
        }
        long ringA = a.setupRx(0, 8, 2, false);
        long ringB = b.setupRx(0, 8, 2, false);
        a.w(HLREG0, a.r(HLREG0) | HLREG0_LPBK);
        long tx = a.setupTx(0, 8, 0);
        a.txDescriptor(tx, 0, a.alloc(2048), Frames.broadcast(64), true);
        a.w(txq(0) + TDT, 1);
        a.poll(1);
        b.poll(1);
        assertEquals(RXD_STAT_DD, a.rxStatus(ringA, 0) & RXD_STAT_DD, "HLREG0.LPBK returns the frame to port 0");
        assertEquals(0, b.rxStatus(ringB, 0) & RXD_STAT_DD, "and nothing reaches port 1");
    }

    @Test
    void generatedFlowsSpreadOverQueuesAndTheSinkChecksSequences() {
        GeneratorWire gen = new GeneratorWire(3, Harness.mac(0xA), 0, 64, 64, 0x5A, 256);
        gen.setRunning(false);
        a = new Harness(0, Harness.mac(0xA), gen);
        a.resetAndLinkUp();
        rss(a);
        a.w(RXCTRL, RXCTRL_RXEN);
        long[] rings = new long[16];
        for (int q = 0; q < 16; q++) {
            rings[q] = a.setupRx(q, 64, 2, true);
        }
        gen.setRunning(true);
        a.poll(8);
        assertEquals(256, gen.sent());
        int used = 0;
        int total = 0;
        for (int q = 0; q < 16; q++) {
            int done = countDone(a, rings[q], 64);
            total += done;
            used += done > 0 ? 1 : 0;
        }
        assertEquals(256, total);
        assertTrue(used >= 8, "64 flows reached " + used + " of 16 queues");
        // send generated frames back out: the sink sees every sequence in order
        long tx = a.setupTx(0, 512, 0);
        int i = 0;
        for (int q = 0; q < 16; q++) {
            for (int d = 0; d < countDone(a, rings[q], 64); d++) {
                // the buffer address was replaced by the write-back: harness buffers follow the ring
                long bufIova = ((rings[q] + 64L * 16 + 127) & ~127L) + 2048L * d;
                MemorySegment dd = a.at(tx + 16L * i);
                dd.set(Harness.LE_LONG, 0, bufIova);
                dd.set(Harness.LE_INT, 8, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_DEXT | TXD_CMD_RS
                        | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | a.rxLength(rings[q], d));
                dd.set(Harness.LE_INT, 12, 0);
                i++;
            }
        }
        a.w(txq(0) + TDT, i);
        a.poll(10);
        assertEquals(256, gen.sinkFrames());
        assertEquals(0, gen.lost(), "within a flow, RSS keeps order");
        assertEquals(0, gen.patternErrors());
        assertEquals(0, gen.foreign());
    }
}
