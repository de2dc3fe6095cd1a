package io.jnic.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.memory.MemoryGroup;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NullDeviceTest {
    @TempDir
    Path dir;
    MemoryGroup mem;
    Mempool pool;
    EthPorts ports;

    @BeforeEach
    void setUp() {
        mem = TestMemory.group(dir, 16 << 20);
        pool = TestMemory.pool(mem, "nullpool", 11, 1024);
        ports = new EthPorts(mem);
    }

    @AfterEach
    void tearDown() {
        if (ports == null) {
            return; // skipped in setUp before anything was made
        }
        ports.close();
        pool.close();
        mem.close();
    }

    @Test
    void forwardsAndCountsAndLeaksNothing() {
        EthDevice p = ports.createVdev("net_null0,size=128,copy=1");
        p.configure(PortConfig.of(2, 2));
        for (int q = 0; q < 2; q++) {
            p.rxQueueSetup(q, 256, pool);
            p.txQueueSetup(q, 256);
        }
        p.start();
        assertTrue(p.waitLink(Duration.ofSeconds(1)).up());
        MbufBatch b = new MbufBatch(32);
        Mbuf m = new Mbuf();
        long rx = 0;
        for (int i = 0; i < 1000; i++) {
            int q = i & 1;
            rx += p.rxBurst(q, b);
            for (int k = 0; k < b.count(); k++) {
                m.wrap(b.get(k));
                assertEquals(128, m.dataLen());
                assertEquals(p.portId(), m.port());
                assertEquals(0xFFFF, m.getShortBE(0));
            }
            assertEquals(32, p.txBurst(q, b));
            assertEquals(0, b.count());
        }
        PortStats s = p.stats();
        assertEquals(32000, rx);
        assertEquals(32000, s.ipackets);
        assertEquals(32000, s.opackets);
        assertEquals(32000L * 128, s.obytes);
        assertEquals(16000, s.qIpackets[1]);
        assertEquals(16000L, p.xstat("tx_q0_packets"));
        assertEquals(0, pool.inUseCount());
        assertTrue(pool.audit(l -> true).isClean());
        p.statsReset();
        assertEquals(0, p.stats().ipackets);
        // the same traffic through the port's own queue pair object
        QueuePair qp = p.queuePair(1);
        assertTrue(qp == p.queuePair(1), "one object per queue for the life of the port");
        assertEquals(32, qp.rxBurst(b));
        assertEquals(32, qp.txBurst(b));
        assertEquals(32, p.stats().qIpackets[1]);
        assertEquals(-1, qp.rxInterruptFd(), "net_null has no RX interrupts");
        var e = assertThrows(IllegalArgumentException.class, () -> p.queuePair(16));
        assertEquals(p.name() + " has queues 0..15, not 16", e.getMessage());
    }

    @Test
    void portTableRecordsThePort() {
        EthDevice p = ports.createVdev("net_null3");
        p.configure(PortConfig.of(1, 3));
        PortTable t = PortTable.of(mem);
        assertEquals("net_null", t.driverName(p.portId()));
        assertEquals("net_null3", t.deviceName(p.portId()));
        assertEquals(1, t.rxQueues(p.portId()));
        assertEquals(3, t.txQueues(p.portId()));
        assertEquals(p.macAddress(), t.mac(p.portId()));
        assertEquals(PortState.CONFIGURED, t.state(p.portId()));
        p.rxQueueSetup(0, 64, pool);
        for (int q = 0; q < 3; q++) {
            p.txQueueSetup(q, 64);
        }
        p.start();
        assertEquals(PortState.STARTED, t.state(p.portId()));
        assertFalse(p.resetsQueuePairs(), "net_null has no queue state to rebuild one pair from");
        assertTrue(t.link(p.portId()).up());
        p.close();
        assertEquals(PortState.FREE, t.state(p.portId()));
    }

    @Test
    void badInputIsRefusedWithClearMessages() {
        var e = assertThrows(IllegalArgumentException.class, () -> ports.createVdev("net_bogus0"));
        assertEquals("unknown virtual device 'net_bogus0': known drivers are [net_null] (a vdev is named DRIVER + "
                + "instance, e.g. net_null0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ports.createVdev("net_null0,speed=5"));
        assertTrue(e.getMessage().contains("net_null has no option 'speed'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ports.createVdev("net_null0,size=x"));
        assertEquals("net_null0: size=x must be a number in 14..9600", e.getMessage());
        EthDevice p = ports.createVdev("net_null0");
        e = assertThrows(IllegalArgumentException.class, () -> ports.createVdev("net_null0"));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.configure(PortConfig.of(17, 1)));
        assertEquals("port 0 (net_null0): 17 RX queues requested, the device has 16", e.getMessage());
        var s = assertThrows(IllegalStateException.class, () -> p.rxQueueSetup(0, 64, pool));
        assertEquals("port 0 (net_null0): rxQueueSetup before configure(); configure the port first", s.getMessage());
        p.configure(PortConfig.of(1, 1));
        e = assertThrows(IllegalArgumentException.class, () -> p.rxQueueSetup(1, 64, pool));
        assertEquals("port 0 (net_null0): no RX queue 1; 1 configured (0..0)", e.getMessage());
        s = assertThrows(IllegalStateException.class, p::start);
        assertEquals("port 0 (net_null0): RX queue 0 is not set up; call rxQueueSetup first", s.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ports.port(7));
        assertEquals("no port 7 in this process; ports are [0]", e.getMessage());
        try (RxInterrupts w = new RxInterrupts()) {
            e = assertThrows(IllegalArgumentException.class, () -> w.add(p, 0));
            assertEquals("port 0 (net_null0) RX queue 0 has no interrupt: configure the port withRxInterrupts(true) on a "
                    + "device with enough MSI-X vectors", e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> p.xstat("nope"));
        assertTrue(e.getMessage().startsWith("port 0 (net_null0) has no extended statistic 'nope'; it has [rx_good_packets"));
    }

    @Test
    void offloadsAndControlsThePortLacksAreRefusedWithoutChangingIt() {
        EthDevice p = ports.createVdev("net_null0");
        var e = assertThrows(IllegalArgumentException.class,
                () -> p.configure(PortConfig.of(1, 1).withRxOffloads(java.util.EnumSet.of(RxOffload.IPV4_CKSUM))));
        assertEquals("port 0 (net_null0): RX offload IPV4_CKSUM is not supported by net_null here (it offers []); "
                + "remove it from the port configuration", e.getMessage());
        assertEquals(PortState.PROBED, p.state());
        e = assertThrows(IllegalArgumentException.class,
                () -> p.configure(PortConfig.of(1, 1).withTxOffloads(java.util.EnumSet.of(TxOffload.TCP_TSO))));
        assertTrue(e.getMessage().contains("TX offload TCP_TSO is not supported"), e.getMessage());
        p.configure(PortConfig.of(1, 1));
        var s = assertThrows(IllegalStateException.class, () -> p.vlanFilter(5, true));
        assertTrue(s.getMessage().contains("configure the port with RX offload VLAN_FILTER"), s.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.vlanFilter(4096, true));
        assertTrue(e.getMessage().contains("VLAN id 4096 outside 0..4095"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.mtu(9601));
        assertEquals("port 0 (net_null0): MTU 9601 outside 68..9600", e.getMessage());
        var u = assertThrows(UnsupportedOperationException.class, () -> p.mtu(9000));
        assertEquals("port 0 (net_null0) (net_null) cannot change its MTU after configure", u.getMessage());
        assertEquals(1500, p.mtu());
        e = assertThrows(IllegalArgumentException.class,
                () -> p.multicastAddresses(java.util.List.of(MacAddress.parse("02:00:00:00:00:01"))));
        assertTrue(e.getMessage().contains("is not a multicast address"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.flowValidate(FlowRule.etherType(0x88F7, 3)));
        assertTrue(e.getMessage().contains("sends to RX queue 3 but only 1 are configured"), e.getMessage());
        u = assertThrows(UnsupportedOperationException.class, () -> p.flowCreate(FlowRule.etherType(0x88F7, 0)));
        assertTrue(u.getMessage().endsWith("cannot steer flows"), u.getMessage());
        assertTrue(p.flows().isEmpty());
        e = assertThrows(IllegalArgumentException.class, () -> FlowRule.fiveTuple(-1, null, null, -1, -1, 0));
        assertTrue(e.getMessage().contains("must match something"), e.getMessage());
        // per queue: an offload the port lacks is refused there too, and the queue stays not set up
        e = assertThrows(IllegalArgumentException.class,
                () -> p.rxQueueSetup(0, 64, pool, java.util.EnumSet.of(RxOffload.VLAN_STRIP)));
        assertEquals("port 0 (net_null0): RX queue 0: offload VLAN_STRIP is not supported by net_null here (it offers [])",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> p.txQueueSetup(0, 64, java.util.EnumSet.of(TxOffload.MULTI_SEGS)));
        assertTrue(e.getMessage().contains("TX queue 0: offload MULTI_SEGS is not supported"), e.getMessage());
        var st = assertThrows(IllegalStateException.class, p::start);
        assertTrue(st.getMessage().contains("RX queue 0 is not set up"), st.getMessage());
        p.rxQueueSetup(0, 64, pool, java.util.Set.of());
        assertEquals(java.util.Set.of(), p.rxQueueOffloads(0));
    }
}
