package io.jnic.ethdev;

import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** A small 4 KB-page memory group and mempools in it, for tests. */
public final class TestMemory {
    private static final AtomicInteger N = new AtomicInteger();

    private TestMemory() {
    }

    public static MemoryGroup group(Path dir, long bytes) {
        TestResources.assumeLockable(bytes); // segments are mlocked
        return MemoryGroup.create(MemoryConfig.builder().filePrefix("et" + Proc.getpid() + "x" + N.incrementAndGet() + "_")
                .runtimeDir(dir).noHuge().size(bytes).iovaMode(IovaMode.ASSIGNED).build());
    }

    public static Mempool pool(MemoryGroup g, String name, int id, int count) {
        MempoolConfig c = MempoolConfig.of(name, id, count);
        long page = g.pageSize().bytes();
        Memzone z = g.reserve("pool." + name, Mempool.bytesNeeded(c, page), page);
        return Mempool.create(z.memory(), c, z::iova, page);
    }
}
