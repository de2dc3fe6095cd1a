package io.jnic.bench.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.mbuf.MbufBatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * io-forward between two net_null ports on one core (testpmd --forward-mode=io): rxBurst of 32 from one,
 * txBurst to the other, both directions; per packet. The null device allocates on RX and frees on TX, so this
 * is the mempool + ethdev layering cost. DPDK's figure: ~109 Mpps on one core here (~9 ns/packet).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class NullForward {
    BenchMemory mem;
    EthPorts ports;
    EthDevice a;
    EthDevice c;
    final MbufBatch b = new MbufBatch(32);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        mem = new BenchMemory("nullfw", 32, 4095);
        ports = new EthPorts(mem.group);
        a = start(ports.createVdev("net_null0"));
        c = start(ports.createVdev("net_null1"));
    }

    private EthDevice start(EthDevice d) {
        d.configure(PortConfig.of(1, 1).withLcore(0)); // one thread: lcore 0's mempool cache
        d.rxQueueSetup(0, 1024, mem.pool);
        d.txQueueSetup(0, 1024);
        d.start();
        return d;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ports.close();
        mem.close();
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public int ioForward() {
        a.rxBurst(0, b);
        int n = c.txBurst(0, b);
        c.rxBurst(0, b);
        return n + a.txBurst(0, b);
    }
}
