package io.jnic.bench.ethdev;

import io.jnic.memory.Hugepages;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.PageSize;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import java.nio.file.Files;

/** A memory group (hugepages when free, else 4 KB pages) and a mempool in it. */
final class BenchMemory implements AutoCloseable {
    final MemoryGroup group;
    final Mempool pool;
    private final java.nio.file.Path dir;

    BenchMemory(String prefix, int poolId, int mbufs) throws Exception {
        long bytes = mbufs * 2560L + (32L << 20);
        MemoryConfig.Builder b = MemoryConfig.builder().filePrefix(prefix + ProcessHandle.current().pid() + "_")
                .iovaMode(IovaMode.ASSIGNED).size(bytes);
        dir = Files.createTempDirectory("jnic-bench");
        if (Hugepages.available(PageSize.HUGE_2M) * PageSize.HUGE_2M.bytes() < bytes + (8L << 20)) {
            b.noHuge();
        }
        b.runtimeDir(dir);
        group = MemoryGroup.create(b.build());
        MempoolConfig c = MempoolConfig.of(prefix, poolId, mbufs);
        long page = group.pageSize().bytes();
        Memzone z = group.reserve("pool", Mempool.bytesNeeded(c, page), page);
        pool = Mempool.create(z.memory(), c, z::iova, page);
    }

    @Override
    public void close() {
        pool.close();
        group.close();
        try {
            Files.deleteIfExists(dir);
        } catch (java.io.IOException e) {
            // not empty: the group left files, which say what happened
        }
    }

}
