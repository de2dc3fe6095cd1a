package io.jnic.driver.ixgbe;

import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sends hand-built frames from one port to another and reports, per frame, the RX queue it reached or that it did
 * not arrive. Every frame carries a tag in its last four bytes. After the frames a marker frame (to the receiver's
 * own address, EtherType 0x88B5) follows; the model handles a wire's frames in order, so once the marker is in,
 * every frame sent before it has been delivered or dropped: a missing frame was dropped, with no timing involved.
 */
final class Exchange {
    static final int MARKER = 0x7FFF_FFFF;
    static final int LEN = 60;

    /** What arrived: tag -> RX queue, and each frame's mbuf details for the tests that look at them. */
    record Got(int queue, long olFlags, long timestamp) {
    }

    private Exchange() {
    }

    static byte[] eth(byte[] dst, int etherType, int tag) {
        byte[] f = new byte[LEN];
        System.arraycopy(dst, 0, f, 0, 6);
        byte[] src = {0x02, 0x5e, 0x5e, 0x00, 0x00, 0x01};
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) (etherType >>> 8);
        f[13] = (byte) etherType;
        tag(f, tag);
        return f;
    }

    static byte[] vlan(byte[] dst, int vid, int tag) {
        byte[] f = eth(dst, 0x8100, tag);
        f[14] = (byte) (vid >>> 8);
        f[15] = (byte) vid;
        f[16] = (byte) 0x88;
        f[17] = (byte) 0xB5;
        return f;
    }

    /** An IPv4 frame with protocol {@code proto} and, for TCP/UDP, the ports. */
    static byte[] ipv4(byte[] dst, int srcIp, int dstIp, int proto, int sport, int dport, int tag) {
        byte[] f = eth(dst, 0x0800, 0);
        f[14] = 0x45;
        f[16] = 0;
        f[17] = 46; // total length: the 46 bytes after the Ethernet header
        f[22] = 64;
        f[23] = (byte) proto;
        be32(f, 26, srcIp);
        be32(f, 30, dstIp);
        f[34] = (byte) (sport >>> 8);
        f[35] = (byte) sport;
        f[36] = (byte) (dport >>> 8);
        f[37] = (byte) dport;
        tag(f, tag);
        return f;
    }

    static void be32(byte[] f, int at, int v) {
        f[at] = (byte) (v >>> 24);
        f[at + 1] = (byte) (v >>> 16);
        f[at + 2] = (byte) (v >>> 8);
        f[at + 3] = (byte) v;
    }

    static void tag(byte[] f, int tag) {
        be32(f, f.length - 4, tag);
    }

    static int tagOf(Mbuf m) {
        return m.getIntBE(m.dataLen() - 4);
    }

    /** Sends {@code frames} (each with {@code olFlags}) from {@code tx} queue 0. */
    static void send(Rig rig, IxgbeDevice tx, long olFlags, byte[]... frames) {
        MbufBatch out = new MbufBatch(32);
        Mbuf m = new Mbuf();
        for (byte[] f : frames) {
            if (!out.alloc(rig.pool, 1, Mempool.LCORE_ANY)) {
                throw new IllegalStateException("pool empty");
            }
            m.wrap(out.get(0)).dataLen(f.length).pktLen(f.length);
            m.write(0, f, 0, f.length);
            m.olFlags(olFlags);
            long end = System.nanoTime() + 5_000_000_000L;
            while (!out.isEmpty()) {
                tx.txBurst(0, out);
                if (System.nanoTime() > end) {
                    throw new AssertionError("TX queue 0 of " + tx.name() + " did not take a frame in 5 s");
                }
            }
        }
    }

    /**
     * Sends {@code frames} from tx to rx, then the marker; returns tag -> what arrived (frames that did not arrive
     * are absent). Polls the first {@code rxQueues} queues of rx.
     */
    static Map<Integer, Got> run(Rig rig, IxgbeDevice tx, IxgbeDevice rx, int rxQueues, long olFlags, byte[]... frames) {
        send(rig, tx, olFlags, frames);
        send(rig, tx, 0, eth(rx.macAddress().octets(), 0x88B5, MARKER));
        Map<Integer, Got> got = new LinkedHashMap<>();
        MbufBatch in = new MbufBatch(32);
        Mbuf m = new Mbuf();
        long end = System.nanoTime() + 10_000_000_000L;
        boolean marker = false;
        int afterMarker = 0;
        while (!marker || afterMarker++ < 2) { // after the marker: one more sweep of every queue
            for (int q = 0; q < rxQueues; q++) {
                int n;
                while ((n = rx.rxBurst(q, in)) > 0) {
                    for (int i = 0; i < n; i++) {
                        m.wrap(in.get(i));
                        int tag = tagOf(m);
                        if (tag == MARKER) {
                            marker = true;
                        } else {
                            got.put(tag, new Got(q, m.olFlags(), m.timestamp()));
                        }
                    }
                    in.free(Mempool.LCORE_ANY);
                }
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("the marker frame did not arrive at " + rx.name() + " in 10 s; got " + got
                        + "; " + rig.sim.statsText());
            }
        }
        return got;
    }

    /** Tags of {@code got}, in arrival order. */
    static List<Integer> tags(Map<Integer, Got> got) {
        return new ArrayList<>(got.keySet());
    }
}
