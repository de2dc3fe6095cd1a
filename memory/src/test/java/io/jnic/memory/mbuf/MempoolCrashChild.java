package io.jnic.memory.mbuf;

import io.jnic.memory.ring.SharedFile;
import java.nio.file.Path;

/**
 * Child of {@link MempoolCrashTest}: attaches the pool at offset 0 of the shared file and allocates and frees mbufs
 * on one lcore in bursts of varying size (so that its cache refills from and flushes to the ring), holding up to
 * ~60 at a time, until its crash point kills it. Exits 3 when the point never came.
 *
 * <pre>
 * churn FILE SIZE LCORE
 * </pre>
 */
public final class MempoolCrashChild {

    public static void main(String[] args) {
        int lcore = Integer.parseInt(args[3]);
        try (SharedFile f = SharedFile.open(Path.of(args[1]), Long.parseLong(args[2]))) {
            Mempool p = Mempool.attach(f.segment().asSlice(0, MempoolCrashTest.POOL_BYTES));
            long[] held = new long[128];
            int n = 0;
            for (int round = 0; round < 20_000; round++) {
                int k = 1 + (round * 7) % 13;
                if (n + k <= 64 && (round % 5 != 4) && p.allocBulk(held, n, k, lcore)) {
                    n += k;
                } else if (n > 0) {
                    int give = Math.min(n, 1 + (round * 11) % 29);
                    Mempool.freeBulk(held, n - give, give, lcore);
                    n -= give;
                }
            }
        }
        System.exit(3);
    }
}
