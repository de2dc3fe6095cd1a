package io.jnic.bench.ethdev;

import io.jnic.driver.ixgbe.RegisterFileDevice;
import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.MbufBatch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    private static final int RING = 512;
    private static final long STATE = 128; // QueueMemory state block before the descriptors

    @Param({"32"})
    int batch;

    /** The mempool cache the queues use: -1 none (the pool's ring), 0 lcore 0's cache. */
    @Param({"0", "-1"})
    int lcore;

    BenchMemory mem;
    EthPorts ports;
    EthDevice dev;
    MbufBatch b;
    MemorySegment rxDesc;
    MemorySegment txDesc;
    int rxFix;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        mem = new BenchMemory("ixb", 31, 4095);
        ports = new EthPorts(mem.group);
        dev = ports.probe(new RegisterFileDevice());
        dev.configure(PortConfig.of(1, 1).withLcore(lcore));
        dev.rxQueueSetup(0, RING, mem.pool);
        dev.txQueueSetup(0, RING);
        dev.start();
        Memzone rz = mem.group.lookup("jnic.p" + dev.portId() + ".rxq0");
        Memzone tz = mem.group.lookup("jnic.p" + dev.portId() + ".txq0");
        rxDesc = rz.memory().asSlice(STATE, RING * 16L);
        txDesc = tz.memory().asSlice(STATE, RING * 16L);
        // the device received a frame into every descriptor
        for (int i = 0; i < RING; i++) {
            writeBack(i);
        }
        b = new MbufBatch(batch);
    }

    private void writeBack(int i) {
        long d = i * 16L;
        rxDesc.set(ValueLayout.JAVA_INT, d + 12, 60); // length
        rxDesc.set(ValueLayout.JAVA_INT, d + 8, 0x3); // DD | EOP
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ports.close();
        mem.close();
    }

    @Benchmark
    @OperationsPerInvocation(32)
    public int rxTxBurst() {
        int n = dev.rxBurst(0, b);
        // re-arm the descriptors just consumed, as the device would after the refill
        int f = rxFix;
        for (int k = 0; k < n; k++) {
            writeBack(f);
            f = f + 1 == RING ? 0 : f + 1;
        }
        rxFix = f;
        int sent = dev.txBurst(0, b);
        // the device is done with every descriptor at once: DD in each TX write-back word
        for (int i = 0; i < RING; i += 32) {
            txDesc.set(ValueLayout.JAVA_INT, (i + 31) * 16L + 12, 1);
        }
        if (!b.isEmpty()) {
            b.free(lcore);
        }
        return sent;
    }
}
