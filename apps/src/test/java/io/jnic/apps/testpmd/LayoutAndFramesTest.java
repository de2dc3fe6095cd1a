package io.jnic.apps.testpmd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortStats;
import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.MbufBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure parts: DPDK's stream and lcore layout, and the frames' checksums. */
class LayoutAndFramesTest {
    /** Ports without devices: enough for the layout. */
    private static final class FakePorts extends PortSet {
        private final int[] ids;
        private final int first;
        private final int queues;

        FakePorts(int n, int first, int queues) {
            this.ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = i;
            }
            this.first = first;
            this.queues = queues;
        }

        private static final QueuePair NONE = new QueuePair(0, 0) {
            @Override
            public int rxBurst(MbufBatch b) {
                return 0;
            }

            @Override
            public int txBurst(MbufBatch b) {
                return 0;
            }

            @Override
            public boolean rxReady() {
                return false;
            }

            @Override
            public long rxPackets() {
                return 0;
            }

            @Override
            public long txPackets() {
                return 0;
            }
        };

        @Override int firstQueue() { return first; }
        @Override int queues() { return queues; }
        @Override int[] ids() { return ids; }
        @Override boolean primary() { return true; }
        @Override String deviceName(int p) { return "fake" + p; }
        @Override String driverName(int p) { return "fake"; }
        @Override MacAddress mac(int p) { return new MacAddress(0x020000000100L + p); }
        @Override LinkStatus link(int p) { return LinkStatus.DOWN; }
        @Override int mtu(int p) { return 1500; }
        @Override int rxQueues(int p) { return first + queues; }
        @Override int txQueues(int p) { return first + queues; }
        @Override int rxDescriptors() { return 128; }
        @Override int txDescriptors() { return 512; }
        @Override int maxRxQueues(int p) { return 16; }
        @Override int maxTxQueues(int p) { return 16; }
        @Override boolean started(int p) { return true; }
        @Override void stop(int p) { }
        @Override void start(int p) { }
        @Override boolean promiscuous(int p) { return true; }
        @Override void promiscuous(int p, boolean on) { }
        @Override void stats(int p, PortStats into) { into.clear(); }
        @Override Map<String, Long> xstats(int p) { return Map.of(); }
        @Override void clearStats(int p) { }
        @Override QueuePair queue(int p, int q) { return NONE; }
        @Override public void close() { }
    }

    private static List<String> layout(int ports, int first, int queues, Forwarding.Topology t) {
        Forwarding f = new Forwarding(null, new FakePorts(ports, first, queues), new FakePorts(ports, 0, 1).ids(), t,
                new int[0], 1, null, System.out);
        List<String> s = new ArrayList<>();
        for (FwdStream x : f.buildStreams()) {
            s.add(x.rxPort + "/" + x.rxQueue + ">" + x.txPort + "/" + x.txQueue + " " + Long.toHexString(x.peerMac));
        }
        return s;
    }

    @Test
    void streamsFollowDpdksOrderForEachTopology() {
        assertEquals(List.of("0/0>1/0 20000000001", "1/0>2/0 20000000002", "2/0>0/0 20000000000",
                "0/1>1/1 20000000001", "1/1>2/1 20000000002", "2/1>0/1 20000000000"),
                layout(3, 0, 2, Forwarding.Topology.CHAINED));
        // paired with an odd port count: the last port forwards to itself, as testpmd does
        assertEquals(List.of("0/0>1/0 20000000001", "1/0>0/0 20000000000", "2/0>2/0 20000000002"),
                layout(3, 0, 1, Forwarding.Topology.PAIRED));
        assertEquals(List.of("0/0>0/0 20000000000", "1/0>1/0 20000000001"), layout(2, 0, 1, Forwarding.Topology.LOOP));
        // a secondary's share: queues 2 and 3 of 4
        assertEquals(List.of("0/2>1/2 20000000001", "1/2>0/2 20000000000", "0/3>1/3 20000000001",
                "1/3>0/3 20000000000"), layout(2, 2, 2, Forwarding.Topology.PAIRED));
    }

    @Test
    void extraStreamsGoToTheLastLcores() {
        Forwarding f = new Forwarding(null, new FakePorts(3, 0, 2), new int[] {0, 1, 2}, Forwarding.Topology.PAIRED,
                new int[0], 4, null, System.out);
        // 6 streams over 4 lcores: 1, 1, 2, 2 (setup_fwd_config_of_each_lcore)
        assertArrayEquals(new int[][] {{0, 1}, {1, 1}, {2, 2}, {4, 2}}, f.lcoreShares(6));
        // more lcores than streams: one stream each
        assertArrayEquals(new int[][] {{0, 1}, {1, 1}}, f.lcoreShares(2));
    }

    @Test
    void checksumsMatchAFromScratchComputationForEveryDestination() {
        // RFC 1071 on a textbook header (checksum b861 included): the sum of a valid header is all ones
        byte[] h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, (byte) 0xb8, 0x61, (byte) 0xc0, (byte) 0xa8,
            0x00, 0x01, (byte) 0xc0, (byte) 0xa8, 0x00, (byte) 0xc7};
        assertEquals(0xFFFF, UdpFrames.sum(h, 0, 20));
        int src = UdpFrames.parseIp("10.254.0.0");
        for (int dst : new int[] {UdpFrames.parseIp("10.253.0.0"), UdpFrames.parseIp("10.253.3.255"),
            UdpFrames.parseIp("255.255.255.255"), 0}) {
            for (int len : new int[] {42, 43, 64, 1514}) {
                byte[] f = new UdpFrames(len, 0x02_00_00_00_00_01L, 0x02_00_00_00_00_02L, src, dst, 1000, 1001).template();
                assertEquals(0xFFFF, UdpFrames.sum(f, UdpFrames.IP, 20), "IPv4 checksum, dst " + UdpFrames.ip(dst));
                int udpLen = len - UdpFrames.UDP;
                long pseudo = UdpFrames.sum(f, UdpFrames.IP_SRC, 8) + UdpFrames.PROTO_UDP + udpLen
                        + UdpFrames.sum(f, UdpFrames.UDP, udpLen);
                assertEquals(0xFFFF, UdpFrames.fold(pseudo), "UDP checksum, dst " + UdpFrames.ip(dst) + ", length " + len);
            }
        }
    }
}
