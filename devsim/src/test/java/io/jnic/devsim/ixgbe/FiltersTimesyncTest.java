package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.wire.LoopWire;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The model's queue filters (7.1.2 precedence), VLAN filter and IEEE 1588 clock, driven register by register. */
class FiltersTimesyncTest {
    private Harness h;
    private long ring0;
    private long ring2;
    private long ring3;

    @BeforeEach
    void setUp() {
        h = new Harness(0, Harness.mac(0xA), new LoopWire());
        h.resetAndLinkUp();
        ring0 = h.setupRx(0, 8, 2, true);
        h.setupRx(1, 8, 2, true);
        ring2 = h.setupRx(2, 8, 2, true);
        ring3 = h.setupRx(3, 8, 2, true);
        h.w(FCTRL, FCTRL_BAM | FCTRL_UPE | FCTRL_MPE);
        h.w(RXCTRL, RXCTRL_RXEN);
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    private static byte[] udp(int dport) {
        byte[] f = new byte[60];
        f[0] = 0x02;
        f[12] = 0x08;
        f[14] = 0x45;
        f[17] = 46;
        f[23] = 17;
        f[26] = 10;
        f[29] = 1; // 10.0.0.1
        f[30] = 10;
        f[33] = 2; // 10.0.0.2
        f[34] = 0x03;
        f[35] = (byte) 0xE8; // 1000
        f[36] = (byte) (dport >>> 8);
        f[37] = (byte) dport;
        return f;
    }

    private void receive(byte[] f, long at) {
        h.dev.receive(MemorySegment.ofArray(f), 0, f.length, at);
    }

    private boolean delivered(long ring, int i) {
        return (h.rxStatus(ring, i) & RXD_STAT_DD) != 0;
    }

    @Test
    void anEtherTypeFilterOutranksA5TupleFilterWhichOutranksRss() {
        // 5-tuple [5]: UDP to port 2000 (addresses and source port not compared) -> queue 3
        h.w(SDPQF0 + 20, 0xD007 << 16); // 2000 as its bytes sit in the header
        h.w(L34T_IMIR0 + 20, 3 << L34T_IMIR_QUEUE_SHIFT);
        h.w(FTQF0 + 20, FTQF_QUEUE_EN | FTQF_POOL_MASK_EN | 1 << FTQF_PRIO_SHIFT | 1
                | (FTQF_MASK_SRC_ADDR | FTQF_MASK_DST_ADDR | FTQF_MASK_SRC_PORT) << FTQF_MASK_SHIFT);
        receive(udp(2000), System.nanoTime());
        receive(udp(2001), System.nanoTime());
        assertTrue(delivered(ring3, 0), "5-tuple match to queue 3");
        assertTrue(delivered(ring0, 0), "no match: queue 0 (no RSS)");
        // ETQF[1] for IPv4 with a queue: it wins over the 5-tuple filter
        h.w(ETQS0 + 4, ETQS_QUEUE_EN | 2 << ETQS_QUEUE_SHIFT);
        h.w(ETQF0 + 4, ETQF_FILTER_EN | 0x0800);
        receive(udp(2000), System.nanoTime());
        assertTrue(delivered(ring2, 0), "EtherType filter first");
        assertTrue(!delivered(ring3, 1));
        assertEquals(RXD_PKTTYPE_ETQF | 1 << RXD_PKTTYPE_ETQF_SHIFT, h.rxInfo(ring2, 0) & 0xFFF0, "pkt_info: ETQF 1");
        // disabled again: back to the 5-tuple filter
        h.w(ETQF0 + 4, 0);
        receive(udp(2000), System.nanoTime());
        assertTrue(delivered(ring3, 1));
    }

    @Test
    void theVlanFilterDropsTagsWithoutTheirVftaBit() {
        byte[] tagged = new byte[64];
        tagged[0] = 0x02;
        tagged[12] = (byte) 0x81;
        tagged[15] = 100;
        tagged[16] = (byte) 0x88;
        tagged[17] = (byte) 0xB5;
        assertEquals(0x8100, h.r(VLNCTRL) & VLNCTRL_VET_MASK, "VET after reset");
        h.w(VLNCTRL, h.r(VLNCTRL) | VLNCTRL_VFE);
        receive(tagged, System.nanoTime());
        assertTrue(!delivered(ring0, 0), "VLAN 100 not in VFTA");
        h.w(VFTA0 + 4 * (100 >>> 5), 1 << (100 & 31));
        receive(tagged, System.nanoTime());
        assertTrue(delivered(ring0, 0), "VLAN 100 let in");
    }

    @Test
    void aFillingPacketBufferSendsXoffAndDrainingItXon() {
        java.util.List<byte[]> sent = new java.util.ArrayList<>();
        io.jnic.devsim.wire.Wire recorder = new io.jnic.devsim.wire.Wire() {
            @Override
            public void attach(io.jnic.devsim.wire.FramePort port) {
            }

            @Override
            public void transmit(MemorySegment frame, long offset, int length) {
                sent.add(frame.asSlice(offset, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }

            @Override
            public int poll(long nowNanos) {
                return 0;
            }

            @Override
            public boolean carrier() {
                return true;
            }

            @Override
            public String describe() {
                return "recorder";
            }
        };
        try (Harness x = new Harness(1, Harness.mac(0xB), recorder)) {
            x.resetAndLinkUp();
            long ring = x.setupRx(0, 8, 2, false); // no DROP_EN: frames wait in the packet buffer
            x.w(FCTRL, FCTRL_BAM | FCTRL_UPE | FCTRL_MPE);
            x.w(RXCTRL, RXCTRL_RXEN);
            x.w(FCTTV0, 0x680);
            x.w(FCRTH0, FCRTH_FCEN | 256);
            x.w(FCRTL0, FCRTL_XONE | 128);
            x.w(FCCFG, FCCFG_TFCE_802_3X);
            byte[] f = udp(7);
            for (int i = 0; i < 7; i++) { // 7 descriptors given: these are delivered
                x.dev.receive(MemorySegment.ofArray(f), 0, f.length);
            }
            assertEquals(0, sent.size());
            for (int i = 0; i < 4; i++) { // 4 * (24 + 64) bytes held: past 256
                x.dev.receive(MemorySegment.ofArray(f), 0, f.length);
            }
            assertEquals(1, sent.size(), "one XOFF");
            byte[] xoff = sent.get(0);
            assertEquals(0x8808, (xoff[12] & 0xFF) << 8 | (xoff[13] & 0xFF));
            assertEquals(1, xoff[15]);
            assertEquals(0x680, (xoff[16] & 0xFF) << 8 | (xoff[17] & 0xFF), "FCTTV's pause time");
            assertEquals(0x0B, xoff[11], "from the port's address");
            for (int i : new int[] {7, 0, 1, 2}) { // software gives four descriptors back (head is at 7)
                x.armRx(ring, i, x.alloc(2048));
            }
            x.w(rxq(0) + RDT, 3);
            x.poll(3);
            assertEquals(2, sent.size(), "XON once the buffer drained below FCRTL");
            assertEquals(0, (sent.get(1)[16] | sent.get(1)[17]));
            assertEquals(2, x.dev.pauseFramesSent()[0] + x.dev.pauseFramesSent()[1]);
        }
    }

    @Test
    void rxTimeStampsAreSystimAtArrivalAndLatchUntilRead() {
        h.w(TIMINCA, 5 << TIMINCA_IP_SHIFT | 32); // 32 ns per 5 cycles of 6.4 ns
        h.w(SYSTIML, 0);
        h.w(SYSTIMH, 0);
        h.w(ETQF0 + 12, ETQF_FILTER_EN | ETQF_1588 | 0x88F7);
        h.w(TSYNCRXCTL, TSYNC_ENABLED | TSYNCRXCTL_TYPE_L2_L4_V2);
        byte[] ptp = new byte[60];
        ptp[0] = 0x02;
        ptp[12] = (byte) 0x88;
        ptp[13] = (byte) 0xF7;
        long t0 = (System.nanoTime() / 32 + 1) * 32;
        receive(ptp, t0);
        assertTrue((h.r(TSYNCRXCTL) & TSYNC_VALID) != 0);
        assertTrue((h.rxStatus(ring0, 0) & RXD_STAT_TS) != 0, "STATUS.TS");
        long s0 = (h.r(RXSTMPL) & 0xFFFFFFFFL) | (long) h.r(RXSTMPH) << 32;
        assertEquals(0, h.r(TSYNCRXCTL) & TSYNC_VALID, "reading RXSTMPH frees the latch");
        receive(ptp, t0 + 96_000); // 3000 periods later
        receive(ptp, t0 + 200_000); // while the latch is held: no stamp
        long s1 = (h.r(RXSTMPL) & 0xFFFFFFFFL) | (long) h.r(RXSTMPH) << 32;
        assertEquals(96_000, s1 - s0, "SYSTIM advanced exactly by the time between arrivals");
        assertTrue((h.rxStatus(ring0, 1) & RXD_STAT_TS) != 0);
        assertEquals(0, h.rxStatus(ring0, 2) & RXD_STAT_TS, "the latch was held");
        // TIMADJ moves the clock by its value, the sign bit subtracts
        long before = (h.r(SYSTIML) & 0xFFFFFFFFL) | (long) h.r(SYSTIMH) << 32;
        h.w(TIMADJL, 1_000_000);
        h.w(TIMADJH, TIMADJH_SIGN);
        long after = (h.r(SYSTIML) & 0xFFFFFFFFL) | (long) h.r(SYSTIMH) << 32;
        assertTrue(after <= before - 1_000_000 + 10_000_000 && after >= before - 1_000_000, before + " -> " + after);
    }
}
