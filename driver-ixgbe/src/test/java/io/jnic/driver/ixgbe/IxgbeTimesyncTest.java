package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.Devsim;
import io.jnic.devsim.wire.CableWire;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.mbuf.MbufFlags;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** IEEE 1588: time stamps of PTP frames across a devsim cable of known delay, and the port clock. */
class IxgbeTimesyncTest {
    @TempDir
    Path dir;

    /** PTP's L2 multicast group (IEEE 1588 annex F). */
    private static final byte[] PTP_GROUP = {0x01, 0x1B, 0x19, 0x00, 0x00, 0x00};
    /** A multiple of the clock's 32 ns increment period, so that the model is exact. */
    private static final long DELAY_NS = 320_000;

    private static byte[] ptp(int seq) {
        byte[] f = Exchange.eth(PTP_GROUP, 0x88F7, seq);
        f[14] = 0x00; // messageType Sync, versionPTP 2
        f[15] = 0x02;
        f[44] = (byte) (seq >>> 8); // sequenceId
        f[45] = (byte) seq;
        return f;
    }

    /** Sends a PTP frame from tx to rx asking for a TX time stamp; returns {tx stamp, rx stamp}. */
    private static long[] oneWay(Rig rig, IxgbeDevice tx, IxgbeDevice rx, int seq) {
        Map<Integer, Exchange.Got> got = Exchange.run(rig, tx, rx, 1, MbufFlags.TX_IEEE1588_TMST, ptp(seq));
        Exchange.Got g = got.get(seq);
        assertTrue(g != null, "PTP frame " + seq + " did not arrive");
        assertEquals(MbufFlags.RX_IEEE1588_PTP | MbufFlags.RX_IEEE1588_TMST,
                g.olFlags() & (MbufFlags.RX_IEEE1588_PTP | MbufFlags.RX_IEEE1588_TMST), "RX flags");
        long txStamp = tx.readTxTimestamp();
        assertTrue(txStamp >= 0, "no TX time stamp latched");
        assertEquals(-1, tx.readTxTimestamp(), "the TX time stamp is read once");
        return new long[] {txStamp, g.timestamp()};
    }

    /** {@code offloads}: b decodes checksums too (its queue takes the offload receive path, which reads stamps as well). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void ptpTimeStampsAcrossACableShowItsDelay(boolean offloads) {
        Path cable = dir.resolve("ptp.cable");
        String w = "cable:" + cable;
        Devsim.Config cfg = new Devsim.Config(2, List.of(w, w), new byte[] {0x02, 0x6a, 0x6e, 0, 0, 0}, 0, 64, 64, -1,
                0, 0);
        try (Rig rig = new Rig(dir, cfg, 2048)) {
            ((CableWire) rig.sim.wire(0)).delayNanos(DELAY_NS);
            ((CableWire) rig.sim.wire(1)).delayNanos(DELAY_NS);
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            PortConfig bc = PortConfig.of(1, 1);
            if (offloads) {
                bc = bc.withRxOffloads(java.util.EnumSet.of(io.jnic.ethdev.RxOffload.IPV4_CKSUM,
                        io.jnic.ethdev.RxOffload.UDP_CKSUM, io.jnic.ethdev.RxOffload.TCP_CKSUM));
            }
            IxgbeDevice b = rig.started(1, bc, 256);
            Rig.linksUp(a, b);
            for (IxgbeDevice d : new IxgbeDevice[] {a, b}) {
                d.multicastAddresses(List.of(MacAddress.of(PTP_GROUP)));
                d.timesyncEnable();
            }
            // the two clocks started apart; one-way differences hold delay +- offset, their sum twice the delay
            long[] ab = oneWay(rig, a, b, 1);
            long[] ba = oneWay(rig, b, a, 2);
            long there = ab[1] - ab[0];
            long back = ba[1] - ba[0];
            assertEquals(2 * DELAY_NS, there + back, "there " + there + " ns, back " + back + " ns");
            // a frame that is not PTP carries no time stamp, and leaves the latch free for the next PTP frame
            Map<Integer, Exchange.Got> plain = Exchange.run(rig, a, b, 1, MbufFlags.TX_IEEE1588_TMST,
                    Exchange.eth(b.macAddress().octets(), 0x88B5, 3));
            assertEquals(0, plain.get(3).olFlags() & (MbufFlags.RX_IEEE1588_PTP | MbufFlags.RX_IEEE1588_TMST));
            a.readTxTimestamp(); // the plain frame asked for a TX stamp too
            long[] ab2 = oneWay(rig, a, b, 4);
            assertEquals(there, ab2[1] - ab2[0], "the offset between the clocks did not change");
        }
    }

    @Test
    void theClockAdvancesAndIsSetAndAdjusted() {
        try (Rig rig = new Rig(dir, 1, "loop", 1024)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1), 256);
            IllegalStateException off = assertThrows(IllegalStateException.class, d::readTime);
            assertTrue(off.getMessage().contains("timesyncEnable"), off.getMessage());
            d.timesyncEnable();
            long t0 = d.readTime();
            Rig.await("the port clock to advance", 5_000, d::readTime, t0 + 1);
            d.writeTime(5_000_000_000_000L);
            long t1 = d.readTime();
            assertTrue(t1 >= 5_000_000_000_000L && t1 < 5_000_000_000_000L + 60_000_000_000L, "after writeTime: " + t1);
            d.adjustTime(3_000_000_000L);
            long t2 = d.readTime();
            assertTrue(t2 >= t1 + 3_000_000_000L, "after +3 s: " + t2 + " (before " + t1 + ")");
            d.adjustTime(-10_000_000_000L);
            long t3 = d.readTime();
            assertTrue(t3 < t2 - 9_000_000_000L, "after -10 s: " + t3 + " (before " + t2 + ")");
            assertThrows(IllegalArgumentException.class, () -> d.writeTime(-1));
            assertEquals(-1, d.readTxTimestamp(), "nothing sent with a TX time stamp yet");
            d.timesyncDisable();
            assertThrows(IllegalStateException.class, d::readTxTimestamp);
        }
    }
}
