package io.jnic.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnic.memory.MemoryGroup;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.sys.Proc;
import io.jnic.testsupport.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Another process attached to the same memory group sees this process's ports. */
class PortTableProcessTest {
    @TempDir
    Path dir;

    @Test
    void anotherProcessSeesThePorts() throws Exception {
        try (MemoryGroup mem = TestMemory.group(dir, 8 << 20); Mempool pool = TestMemory.pool(mem, "ptpool", 12, 512);
                EthPorts ports = new EthPorts(mem)) {
            EthDevice a = ports.createVdev("net_null0");
            EthDevice b = ports.createVdev("net_null1");
            a.configure(PortConfig.of(2, 3));
            a.rxQueueSetup(0, 64, pool);
            a.rxQueueSetup(1, 64, pool);
            for (int q = 0; q < 3; q++) {
                a.txQueueSetup(q, 64);
            }
            a.start();
            List<String> lines;
            int exit;
            try (ChildJvm p = ChildJvm.of(PortTableChild.class).jvmArgs("-XX:TieredStopAtLevel=1")
                    .args(mem.filePrefix(), dir.toString()).start()) {
                exit = p.waitFor(Duration.ofSeconds(30));
                lines = p.seen();
            }
            int pid = Proc.getpid();
            assertEquals(List.of(
                    a.portId() + " net_null net_null0 STARTED 2/3 " + a.macAddress() + " true pid " + pid,
                    b.portId() + " net_null net_null1 PROBED 0/0 " + b.macAddress() + " false pid " + pid,
                    "end"), lines);
            assertEquals(0, exit);
        }
    }
}
