package io.jnic.driver.virtio.ethdev;

import io.jnic.driver.virtio.Testpmd;
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
import io.jnic.testsupport.ethdev.EthDeviceConformance;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The conformance suite against a virtio-user port with two queue pairs on DPDK's vhost-user backend: testpmd in
 * io mode forwards what each queue sends back to the same queue, unchanged. Skips when dpdk-testpmd is missing
 * ({@value Testpmd#INSTALL}).
 */
class VirtioUserConformanceTest extends EthDeviceConformance {
    private static final AtomicInteger N = new AtomicInteger();
    private static final long MEMORY = 32L << 20;

    @Override
    protected Bench open(Path dir) throws Exception {
        Testpmd.assumeInstalled();
        TestResources.assumeLockable(MEMORY); // the memory group is mlocked
        MemoryGroup mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("vc" + Proc.getpid() + "x"
                + N.incrementAndGet() + "_").runtimeDir(dir.resolve("run")).noHuge().size(MEMORY)
                .iovaMode(IovaMode.ASSIGNED).build());
        Testpmd backend = null;
        try {
            MempoolConfig c = MempoolConfig.of("vconf", 700 + N.get() % 100, 4096);
            long page = mem.pageSize().bytes();
            Memzone z = mem.reserve("pool.vconf", Mempool.bytesNeeded(c, page), page);
            Mempool pool = Mempool.create(z.memory(), c, z::iova, page);
            backend = Testpmd.start(dir, 2, "io");
            Testpmd be = backend;
            EthPorts ports = new EthPorts(mem);
            EthDevice port = ports.createVdev("net_virtio_user0,path=" + be.socket() + ",queues=2");
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
                    return true;
                }

                @Override
                public void close() throws Exception {
                    try {
                        ports.close();
                        be.close();
                    } finally {
                        pool.close();
                        mem.close();
                    }
                }
            };
        } catch (Exception | Error e) {
            if (backend != null) {
                backend.close();
            }
            mem.close();
            throw e;
        }
    }
}
