package io.jnic.memory.mbuf;

import io.jnic.memory.ring.Ring;
import io.jnic.memory.ring.SharedFile;
import io.jnic.sys.Mman;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Child process of {@link MempoolProcessTest}. Maps the shared file after an unrelated mapping (so at
 * another address than the parent), attaches the pool at 0 and the ring at RING_OFF.
 *
 * <pre>
 * churn FILE SIZE LCORE ROUNDS   alloc, stamp, pass through the ring, verify, free; exit 0 or print TORN
 * hold FILE SIZE LCORE           fill the lcore cache, keep 5 mbufs allocated, print ready, sleep
 * </pre>
 */
public final class MempoolChild {

    static final long RING_OFF = 8L << 20;

    public static void main(String[] args) throws Exception {
        MemorySegment shift = Mman.mmap(64L << 20, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
        try (SharedFile f = SharedFile.open(Path.of(args[1]), Long.parseLong(args[2]))) {
            MemorySegment m = f.segment();
            System.out.println("addr=" + m.address());
            Mempool pool = Mempool.attach(m);
            Ring ring = Ring.attach(m.asSlice(RING_OFF));
            int lcore = Integer.parseInt(args[3]);
            switch (args[0]) {
                case "churn" -> System.exit(churn(pool, ring, lcore, Integer.parseInt(args[4])));
                case "hold" -> hold(pool, lcore);
                default -> throw new IllegalArgumentException(args[0]);
            }
        } finally {
            Mman.munmap(shift);
        }
    }

    static long stamp(long h) {
        return h * 0x9E3779B97F4A7C15L;
    }

    private static int churn(Mempool pool, Ring ring, int lcore, int rounds) {
        MbufBatch b = new MbufBatch(32);
        Mbuf m = new Mbuf();
        for (int round = 0; round < rounds; round++) {
            if (b.alloc(pool, 1 + round % 32, lcore)) {
                for (int k = 0; k < b.count(); k++) {
                    long h = b.get(k);
                    m.wrap(h);
                    if (m.refcnt() != 1 || m.dataOff() != 128 || m.dataLen() != 0 || m.pktLen() != 0 || m.nbSegs() != 1
                            || m.next() != Mbuf.NULL || m.port() != Mbuf.PORT_INVALID || m.owner() != lcore || m.olFlags() != 0) {
                        System.out.println("TORN after alloc: " + m);
                        return 5;
                    }
                    m.userData(stamp(h)).port(lcore).rssHash((int) h).pktLen(64).dataLen(64);
                    m.setIntBE(0, (int) stamp(h));
                }
                b.enqueue(ring);
                b.free(lcore); // whatever did not fit
            }
            b.dequeue(ring, 32);
            for (int k = 0; k < b.count(); k++) {
                long h = b.get(k);
                m.wrap(h);
                if (m.userData() != stamp(h) || m.rssHash() != (int) h || m.getIntBE(0) != (int) stamp(h) || m.refcnt() != 1
                        || m.pktLen() != 64) {
                    System.out.println("TORN in flight: " + m);
                    return 6;
                }
            }
            b.free(lcore);
        }
        System.out.println("done");
        return 0;
    }

    private static void hold(Mempool pool, int lcore) throws InterruptedException {
        long[] h = new long[32];
        if (!pool.allocBulk(h, 0, 32, lcore)) {
            throw new IllegalStateException("alloc failed");
        }
        Mempool.freeBulk(h, 0, 32, lcore); // they stay in this lcore's cache
        long[] kept = new long[5];
        if (!pool.allocBulk(kept, 0, 5, lcore)) {
            throw new IllegalStateException("alloc failed");
        }
        System.out.println("ready cache=" + pool.cacheCount(lcore));
        Thread.sleep(120_000);
    }
}
