package io.jnic.bench.ethdev;

import io.jnic.driver.ixgbe.RegisterFileDevice;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ixgbe driver's own cost per packet: rxBurst + txBurst of {@code batch} packets on one port whose
 * "device" is a register file ({@link RegisterFileDevice}); the fixture plays the device by writing DD/EOP and
 * a length into the RX descriptors the driver handed back and DD into every TX descriptor. That fixture work
 * (two stores per RX descriptor, one per TX descriptor) is included in the figure. Compare with ixy's ~94
 * cycles/packet for a forwarded packet (rx + tx) in C.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class IxgbeBurst {

    @Param({"32"})
    int batch;

    /** The mempool cache the queues use: -1 none (the pool's ring), 0 lcore 0's cache. */
    @Param({"0", "-1"})
    int lcore;

    BenchMemory mem;
    EthPorts ports;
    EthDevice dev;
    MbufBatch b;
    DevicePlay play;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        mem = new BenchMemory("ixb", 31, 4095);
        ports = new EthPorts(mem.group);
        dev = ports.probe(new RegisterFileDevice());
        dev.configure(PortConfig.of(1, 1).withLcore(lcore));
        dev.rxQueueSetup(0, DevicePlay.RING, mem.pool);
        dev.txQueueSetup(0, DevicePlay.RING);
        dev.start();
        play = new DevicePlay(mem.group, dev.portId());
        b = new MbufBatch(batch);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ports.close();
        mem.close();
    }

    @Benchmark
    @OperationsPerInvocation(32)
    public int rxTxBurst() {
        play.received(dev.rxBurst(0, b));
        int sent = dev.txBurst(0, b);
        play.transmitted();
        if (!b.isEmpty()) {
            b.free(lcore);
        }
        return sent;
    }
}
