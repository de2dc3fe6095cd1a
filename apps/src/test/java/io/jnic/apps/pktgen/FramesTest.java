package io.jnic.apps.pktgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** Frame building and parsing, the stream meter, rates and sizes: no ports needed. */
class FramesTest {
    @Test
    void framesCarryValidChecksumsAndTheProbe() {
        MemorySegment s = Arena.ofAuto().allocate(9100);
        for (int vlan : new int[] {-1, 100}) {
            for (int size : new int[] {vlan < 0 ? 64 : 68, 65, 128, 571, 1518, 9018}) {
                for (int seq : new int[] {0, 1, 0x7FFFFFFF, -1}) {
                    s.fill((byte) 0);
                    int len = size - Frames.FCS;
                    long ts = 0xABCDEF012345L;
                    Frames.write(s, 0, len, 0x020000000001L, 0x02AABBCCDDEEL, vlan, 0x0A000001 + seq, 0xC0A80101, 1024 + size,
                            9, seq, 0x13, 7, seq, ts);
                    assertTrue(Frames.checksumsValid(s, 0, len), "checksums of a " + size + "-byte frame, vlan " + vlan);
                    int po = Frames.probeOffset(s, 0, len);
                    assertEquals(vlan < 0 ? 42 : 46, po);
                    assertEquals(0x13, Frames.stream(s, po));
                    assertEquals(7, Frames.epoch(s, po));
                    assertEquals(seq, Frames.seq(s, po));
                    assertEquals(ts, Frames.timestamp(s, po));
                }
            }
        }
        s.fill((byte) 0);
        assertEquals(-1, Frames.probeOffset(s, 0, 60), "zeros are not a pktgen frame");
    }

    @Test
    void meterFindsLossDuplicatesAndReordering() {
        StreamMeter m = new StreamMeter();
        int[] seqs = {0, 1, 2, 4, 3, 5, 5, 7, 6, 6};
        for (int q : seqs) {
            m.record(q, 64, 1000);
        }
        assertEquals(8, m.frames, "0-7 arrived once each");
        assertEquals(2, m.duplicates);
        assertEquals(2, m.reordered, "3 after 4, 6 after 7");
        Histogram h = m.latency;
        assertEquals(8, h.getTotalCount());
        // a stream crossing 2^32 keeps counting
        StreamMeter w = new StreamMeter();
        for (long k = 0xFFFFFFF0L; k < 0x100000010L; k++) {
            w.record((int) k, 64, -1);
        }
        assertEquals(32, w.frames);
        assertEquals(0, w.duplicates + w.reordered);
        // a frame far behind the window is late (and reordered), never a false duplicate
        w.record((int) (0x100000010L - StreamMeter.WINDOW - 5), 64, -1);
        assertEquals(1, w.late);
        m.clear();
        assertEquals(0, m.frames + m.duplicates + m.reordered + m.latency.getTotalCount());
    }

    @Test
    void ratesAndSizesParseAndConvert() {
        assertEquals(14_880_952, Rate.parse("100%").pps(64, 10_000), 1);
        assertEquals(1_000_000, Rate.parse("1mpps").pps(64, 0));
        assertEquals(250_000, Rate.parse("250kpps").pps(64, 0));
        assertEquals(1_953_125, Rate.parse("1gbps").pps(64, 10_000), 1);
        assertEquals(Rate.Kind.MAX, Rate.parse("max").kind());
        assertThrows(IllegalArgumentException.class, () -> Rate.parse("fast"));
        assertThrows(IllegalArgumentException.class, () -> Rate.parse("120%"));
        assertThrows(IllegalArgumentException.class, () -> Rate.parse("-5pps"));
        SizeSpec imix = SizeSpec.parse("imix");
        assertEquals((7 * 64 + 4 * 570 + 1518) / 12.0, imix.average(), 1e-9);
        SizeSpec r = SizeSpec.parse("64-128/32");
        assertEquals(64, r.sizeOf(0));
        assertEquals(96, r.sizeOf(1));
        assertEquals(128, r.sizeOf(2));
        assertEquals(64, r.sizeOf(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SizeSpec.parse("63"));
        assertTrue(e.getMessage().contains("below the Ethernet minimum of 64"), e.getMessage());
        Flows f = Flows.defaults(0, 1, 2, 4).with("dst-ip", "10.9.0.1", "256");
        assertEquals(256, f.dstIpCount());
        assertThrows(IllegalArgumentException.class, () -> f.with("dst-ip", "10.9.0.300", "1"));
        assertThrows(IllegalArgumentException.class, () -> f.with("colour", "red", "1"));
    }
}
