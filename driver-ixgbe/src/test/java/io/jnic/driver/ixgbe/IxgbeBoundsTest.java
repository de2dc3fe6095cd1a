package io.jnic.driver.ixgbe;

import io.jnic.driver.intel.QueueMemory;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the device writes back is checked before use: a register-file "device" lets the test write descriptors
 * no model would (bad lengths, missing EOP, error bits), and hand the driver bad mbufs to send.
 */
class IxgbeBoundsTest {
    @TempDir
    Path dir;

    @Test
    void badWriteBacksAreDroppedCountedAndTheirBuffersReused() {
        TestResources.assumeLockable(16 << 20);
        try (MemoryGroup mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("ib" + Proc.getpid() + "_")
                .runtimeDir(dir).noHuge().size(16 << 20).iovaMode(IovaMode.ASSIGNED).build())) {
            MempoolConfig c = MempoolConfig.of("bounds", 77, 511);
            Memzone z = mem.reserve("pool", Mempool.bytesNeeded(c, 4096), 4096);
            try (Mempool pool = Mempool.create(z.memory(), c, z::iova, 4096); EthPorts ports = new EthPorts(mem)) {
                IxgbeDevice d = (IxgbeDevice) ports.probe(new RegisterFileDevice());
                assertEquals(0, d.info().rxInterruptQueues(), "no MSI-X (as over UIO): no RX queue interrupts to offer");
                var refused = assertThrows(IllegalArgumentException.class,
                        () -> d.configure(PortConfig.of(1, 1).withRxInterrupts(true)));
                assertTrue(refused.getMessage().contains("MSI-X vectors"), refused.getMessage());
                d.configure(PortConfig.of(1, 1));
                d.rxQueueSetup(0, 64, pool);
                d.txQueueSetup(0, 64);
                d.start();
                MemorySegment desc = mem.lookup("jnic.p" + d.portId() + ".rxq0").memory().asSlice(QueueMemory.STATE_BYTES,
                        64 * 16);
                writeBack(desc, 0, 0x3, 4000); // longer than the 2048-byte buffer
                writeBack(desc, 1, 0x3, 60); // good
                writeBack(desc, 2, 0x1, 100); // no EOP: would continue in the next buffer
                writeBack(desc, 3, 0x3 | 1 << 29, 60); // RXE: CRC / length error
                writeBack(desc, 4, 0x3, 0); // empty
                writeBack(desc, 5, 0x3, 1514); // good
                MbufBatch b = new MbufBatch(32);
                assertEquals(2, d.rxBurst(0, b));
                Mbuf m = new Mbuf();
                assertEquals(60, m.wrap(b.get(0)).dataLen());
                assertEquals(1514, m.wrap(b.get(1)).pktLen());
                assertEquals(4, d.stats().qErrors[0]);
                assertEquals(2, d.stats().qIpackets[0]);
                // the refilled descriptors point at buffers again and are no longer marked done
                assertEquals(0, desc.get(ValueLayout.JAVA_INT, 0 * 16 + 8));
                assertTrue(desc.get(ValueLayout.JAVA_LONG, 0) != 0);

                // TX: a packet with no data, and one whose length runs past its buffer, are refused by name
                MbufBatch out = new MbufBatch(4);
                assertTrue(out.alloc(pool, 3, Mempool.LCORE_ANY));
                m.wrap(out.get(0)).dataLen(60).pktLen(60);
                m.wrap(out.get(1)); // data_len 0
                m.wrap(out.get(2)).dataLen(60).pktLen(60);
                var e = assertThrows(IllegalArgumentException.class, () -> d.txBurst(0, out));
                assertTrue(e.getMessage().startsWith("TX queue 0: mbuf 0x" + Long.toHexString(out.get(0))), e.getMessage());
                assertTrue(e.getMessage().endsWith("outside its 2176-byte buffer or no data; it and the packets after it "
                        + "stay in the batch"), e.getMessage());
                assertEquals(2, out.count(), "the first packet was queued, the bad one and the rest stay");
                out.free(Mempool.LCORE_ANY);
                b.free(Mempool.LCORE_ANY);
                d.stop();
                assertEquals(0, pool.inUseCount(), pool.audit(l -> true).toString());
            }
        }
    }

    private static void writeBack(MemorySegment desc, int i, int status, int len) {
        desc.set(ValueLayout.JAVA_INT, i * 16L + 12, len);
        desc.set(ValueLayout.JAVA_INT, i * 16L + 8, status);
    }
}
