package io.jnic.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnic.memory.MemoryGroup;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.sys.Proc;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
            Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                    "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
                    System.getProperty("java.class.path"), PortTableChild.class.getName(), mem.filePrefix(), dir.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            List<String> lines;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                lines = r.lines().toList();
            }
            p.waitFor(30, TimeUnit.SECONDS);
            int pid = Proc.getpid();
            assertEquals(List.of(
                    a.portId() + " net_null net_null0 STARTED 2/3 " + a.macAddress() + " true pid " + pid,
                    b.portId() + " net_null net_null1 PROBED 0/0 " + b.macAddress() + " false pid " + pid,
                    "end"), lines);
            assertEquals(0, p.exitValue());
        }
    }
}
