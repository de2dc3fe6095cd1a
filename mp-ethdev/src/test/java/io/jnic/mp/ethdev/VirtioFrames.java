package io.jnic.mp.ethdev;

import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

/**
 * Frames for the virtio-user multi-process tests: each carries its queue pair, a sequence number and a pattern
 * derived from both, so a frame coming back (macswapped by the backend) is checked byte for byte and known to
 * have come back on its own pair.
 */
final class VirtioFrames {
    private VirtioFrames() {
    }

    /** Sequence numbers from here on make jumbo frames (2000..9017 bytes), sent as chains of 2000-byte mbufs. */
    static final int JUMBO = 100_000;

    static byte[] frame(int q, int seq) {
        int len = seq >= JUMBO ? 2000 + (seq * 997) % 7018 : 60 + (seq * 37) % 1200;
        byte[] f = new byte[len];
        byte[] dst = {2, 0, 0, 0, 0, 2};
        byte[] src = {2, 0, 0, 0, 0, 1};
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        f[14] = (byte) q;
        f[15] = (byte) (seq >> 8);
        f[16] = (byte) seq;
        for (int i = 17; i < len; i++) {
            f[i] = (byte) (i * 7 + seq * 3 + q);
        }
        return f;
    }

    static byte[] swapped(byte[] f) {
        byte[] g = f.clone();
        System.arraycopy(f, 0, g, 6, 6);
        System.arraycopy(f, 6, g, 0, 6);
        return g;
    }

    /** The packet's bytes over all its segments. */
    static byte[] read(long h) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Mbuf m = new Mbuf();
        for (long x = h; x != Mbuf.NULL; x = m.next()) {
            m.wrap(x);
            byte[] b = new byte[m.dataLen()];
            m.read(0, b, 0, b.length);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    /** {@code f} in one mbuf, or in a chain of 2000-byte mbufs when longer. */
    static long put(Mempool pool, int lcore, byte[] f) {
        long head = Mbuf.NULL;
        Mbuf m = new Mbuf();
        Mbuf h = new Mbuf();
        for (int o = 0; o < f.length; o += 2000) {
            int n = Math.min(2000, f.length - o);
            long x = pool.alloc(lcore);
            if (x == 0) {
                throw new IllegalStateException("mempool '" + pool.name() + "' is empty");
            }
            m.wrap(x).append(n);
            m.write(0, f, o, n);
            if (head == Mbuf.NULL) {
                head = x;
            } else {
                h.wrap(head).chain(x);
            }
        }
        return head;
    }

    /**
     * Sends frames {@code seq0 .. seq0+n-1} of pair {@code q} one at a time through {@code tx} and checks that each
     * comes back through {@code rx}, macswapped, byte for byte; returns a description of the first mismatch or null.
     */
    static String roundTrip(Mempool pool, int lcore, int q, int seq0, int n, ToIntFunction<MbufBatch> tx,
            ToIntFunction<MbufBatch> rx) {
        Mbuf m = new Mbuf();
        MbufBatch out = new MbufBatch(8);
        MbufBatch in = new MbufBatch(8);
        for (int i = 0; i < n; i++) {
            byte[] f = frame(q, seq0 + i);
            out.add(put(pool, lcore, f));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!out.isEmpty()) {
                tx.applyAsInt(out);
                if (System.nanoTime() > deadline) {
                    return "frame " + (seq0 + i) + " of pair " + q + ": transmit stuck";
                }
            }
            byte[] back = null;
            while (back == null) {
                if (rx.applyAsInt(in) > 0) {
                    back = read(in.get(0));
                    int extra = in.count();
                    in.free(lcore);
                    if (extra != 1) {
                        return "pair " + q + " received " + extra + " frames for one sent";
                    }
                } else if (System.nanoTime() > deadline) {
                    return "frame " + (seq0 + i) + " of pair " + q + " did not come back";
                } else {
                    Thread.onSpinWait();
                }
            }
            if (!java.util.Arrays.equals(swapped(f), back)) {
                return "frame " + (seq0 + i) + " of pair " + q + " came back as " + back.length + " other bytes (queue byte "
                        + (back.length > 14 ? back[14] : -1) + ")";
            }
        }
        return null;
    }

    static String roundTrip(Mempool pool, int lcore, QueuePair q, int seq0, int n) {
        return roundTrip(pool, lcore, q.queue(), seq0, n, q::txBurst, q::rxBurst);
    }
}
