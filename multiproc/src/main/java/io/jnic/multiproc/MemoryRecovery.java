package io.jnic.multiproc;

import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolDescriptor;
import io.jnic.memory.ring.Ring;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * Puts a group's shared memory objects right after a process died: the holds it left on any ring (pools' free
 * rings and rings in memzones) are resolved, and the caches of its lcores in every mempool go back to their free
 * rings, a transfer it left half done settled first (see io.jnic.memory.mbuf, "Crash safety"). Run by the primary
 * when a secondary dies, and by a process that takes over lcores a dead process held, before it uses them.
 */
final class MemoryRecovery {

    private static final System.Logger LOG = System.getLogger(MemoryRecovery.class.getName());

    private MemoryRecovery() {
    }

    /** Recovers what {@code whose} (a description for the log) left in {@code memory}; returns objects flushed. */
    static int recover(MemoryGroup memory, LcoreSet lcores, String whose) {
        Map<Long, Mempool> attached = new HashMap<>();
        for (int id = 1; id <= Mempool.MAX_POOL_ID; id++) {
            Mempool p = Mempool.lookup(id);
            if (p != null && !p.isClosed()) {
                attached.put(p.segment().address(), p);
            }
        }
        int total = 0;
        for (Memzone z : memory.memzones()) {
            try {
                MemorySegment m = z.memory();
                long magic = m.byteSize() < Ring.HEADER_BYTES ? 0 : m.get(ValueLayout.JAVA_LONG, 0);
                if (magic == Ring.MAGIC) {
                    int n = Ring.attach(m).recoverDeadHolders();
                    if (n > 0) {
                        LOG.log(System.Logger.Level.INFO, "resolved {0} hold(s) {1} left on ring ''{2}''", n, whose, z.name());
                    }
                    continue;
                }
                if (magic != MempoolDescriptor.MAGIC) {
                    continue;
                }
                Mempool pool = attached.get(m.address());
                boolean ours = pool == null; // attached just for this: closed again, so the app can attach it later
                if (ours) {
                    pool = Mempool.attach(m);
                }
                int flushed = 0;
                try {
                    pool.ring().recoverDeadHolders();
                    for (int lcore : lcores.ids()) {
                        if (lcore < pool.maxLcores()) {
                            flushed += pool.flushCache(lcore);
                        }
                    }
                } finally {
                    if (ours) {
                        pool.close();
                    }
                }
                if (flushed > 0) {
                    LOG.log(System.Logger.Level.INFO, "returned {0,number,#} objects from the caches of lcores [{1}] ({2}) "
                            + "to mempool ''{3}''", flushed, lcores, whose, pool.name());
                }
                total += flushed;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot recover what " + whose + " left in memzone '" + z.name() + "'", e);
            }
        }
        return total;
    }
}
