package io.jnic.bench.ethdev;

import io.jnic.ethdev.EthDevice;
import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.MbufFlags;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.util.EnumSet;
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
 *
 * <p>{@code offload}: {@code none}, the plain paths; {@code cksum}, the port with RX IPv4/TCP/UDP checksum
 * offloads (the fixture writes IPCS | L4CS into each write-back, the driver turns them into mbuf flags) and TX
 * IPv4/TCP checksum offloads (the loop marks every packet TX_IP_CKSUM | TX_TCP_CKSUM with 14/20/20 header
 * lengths, as an application would; the driver writes a context descriptor only when it changes).
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

    @Param({"none", "cksum"})
    String offload;

    BenchMemory mem;
    EthPorts ports;
    EthDevice dev;
    MbufBatch b;
    DevicePlay play;
    boolean cksum;
    final Mbuf m = new Mbuf();
    static final long TX_FLAGS = MbufFlags.TX_IPV4 | MbufFlags.TX_IP_CKSUM | MbufFlags.TX_TCP_CKSUM;
    static final long TX_LENS = Mbuf.packTxOffload(14, 20, 20, 0);

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        mem = new BenchMemory("ixb", 31, 4095);
        ports = new EthPorts(mem.group);
        dev = ports.probe(new RegisterFileDevice());
        PortConfig c = PortConfig.of(1, 1).withLcore(lcore);
        cksum = offload.equals("cksum");
        if (cksum) {
            c = c.withRxOffloads(EnumSet.of(RxOffload.IPV4_CKSUM, RxOffload.TCP_CKSUM, RxOffload.UDP_CKSUM))
                    .withTxOffloads(EnumSet.of(TxOffload.IPV4_CKSUM, TxOffload.TCP_CKSUM));
        }
        dev.configure(c);
        dev.rxQueueSetup(0, DevicePlay.RING, mem.pool);
        dev.txQueueSetup(0, DevicePlay.RING);
        dev.start();
        play = new DevicePlay(mem.group, dev.portId(), cksum ? 0x63 : 0x3); // 0x60: IPCS | L4CS (7.1.6.2)
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
        int n = dev.rxBurst(0, b);
        play.received(n);
        if (cksum) {
            for (int i = 0; i < n; i++) {
                m.wrap(b.get(i)).olFlags(TX_FLAGS).txOffload(TX_LENS);
            }
        }
        int sent = dev.txBurst(0, b);
        play.transmitted();
        if (!b.isEmpty()) {
            b.free(lcore);
        }
        return sent;
    }
}
