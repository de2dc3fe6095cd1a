package io.jnic.testsupport.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
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

/** The conformance suite against ethdev's net_null: RX makes 128-byte frames, TX frees what it is given. */
class NullDeviceConformanceTest extends EthDeviceConformance {
    private static final AtomicInteger N = new AtomicInteger();
    private static final long MEMORY = 24L << 20;

    @Override
    protected Bench open(Path dir) {
        TestResources.assumeLockable(MEMORY); // the memory group is mlocked
        MemoryGroup mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("cf" + Proc.getpid() + "x"
                + N.incrementAndGet() + "_").runtimeDir(dir).noHuge().size(MEMORY).iovaMode(IovaMode.ASSIGNED).build());
        MempoolConfig c = MempoolConfig.of("conf", 20 + N.get() % 100, 4096);
        long page = mem.pageSize().bytes();
        Memzone z = mem.reserve("pool.conf", Mempool.bytesNeeded(c, page), page);
        Mempool pool = Mempool.create(z.memory(), c, z::iova, page);
        EthPorts ports = new EthPorts(mem);
        EthDevice port = ports.createVdev("net_null0,size=128,copy=1");
        return new Bench() {
            @Override
            public EthDevice port() {
                return port;
            }

            @Override
            public Mempool pool() {
                return pool;
            }

            @Override
            public boolean loopsBack() {
                return false;
            }

            @Override
            public void close() {
                try {
                    ports.close();
                } finally {
                    pool.close();
                    mem.close();
                }
            }
        };
    }
}
