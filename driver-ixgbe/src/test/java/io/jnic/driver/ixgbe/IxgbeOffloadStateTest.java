package io.jnic.driver.ixgbe;

import io.jnic.driver.intel.QueueMemory;
import io.jnic.driver.intel.RxQueue;
import io.jnic.driver.intel.TxQueue;
import io.jnic.driver.intel.RxOffloads;
import io.jnic.driver.intel.TxContext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.EthPorts;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.ethdev.TxOffload;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MempoolConfig;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offloads a queue runs with live in its shared state (offset 56), so that a process taking the queue over
 * (a secondary: {@link IxgbeDriver#attachQueue}) decodes the same way as the port owner; bits that name no
 * offload are refused as corruption. Also checks what the port owner programs: RXDCTL.VME, MAXFRS/JUMBOEN.
 */
class IxgbeOffloadStateTest {
    @TempDir
    Path dir;

    @Test
    void aQueueTakenOverDecodesWithTheOwnersOffloadsAndCorruptBitsAreRefused() {
        TestResources.assumeLockable(16 << 20);
        try (MemoryGroup mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("os" + Proc.getpid() + "_").runtimeDir(dir)
                .noHuge().size(16 << 20).iovaMode(IovaMode.ASSIGNED).build())) {
            MempoolConfig c = MempoolConfig.of("offstate", 79, 1023);
            Memzone z = mem.reserve("pool", Mempool.bytesNeeded(c, 4096), 4096);
            Mempool pool = Mempool.create(z.memory(), c, z::iova, 4096);
            try (EthPorts ports = new EthPorts(mem)) {
                RegisterFileDevice regs = new RegisterFileDevice();
                IxgbeDevice dev = (IxgbeDevice) ports.probe(regs);
                EnumSet<RxOffload> rx = EnumSet.of(RxOffload.VLAN_STRIP, RxOffload.TCP_CKSUM, RxOffload.SCATTER);
                EnumSet<TxOffload> tx = EnumSet.of(TxOffload.TCP_TSO, TxOffload.MULTI_SEGS);
                dev.configure(PortConfig.of(1, 1).withRxOffloads(rx).withTxOffloads(tx).withMtu(9000));
                dev.rxQueueSetup(0, 64, pool);
                dev.txQueueSetup(0, 64);
                dev.start();
                // what the owner programmed
                assertTrue((regs.bar(0).read32(IxgbeRegs.rxq(0) + IxgbeRegs.RXDCTL) & IxgbeRegs.RXDCTL_VME) != 0, "RXDCTL.VME");
                assertEquals(9014 + 4, regs.bar(0).read32(IxgbeRegs.MAXFRS) >>> IxgbeRegs.MAXFRS_MFS_SHIFT);
                assertTrue((regs.bar(0).read32(IxgbeRegs.HLREG0) & IxgbeRegs.HLREG0_JUMBOEN) != 0);

                String rxName = "jnic.p" + dev.portId() + ".rxq0";
                String txName = "jnic.p" + dev.portId() + ".txq0";
                QueueMemory rm = QueueMemory.attach(mem, rxName, QueueMemory.MAGIC_RX, IxgbeDevice.MIN_RING, IxgbeDevice.MAX_RING);
                QueueMemory tm = QueueMemory.attach(mem, txName, QueueMemory.MAGIC_TX, IxgbeDevice.MIN_RING, IxgbeDevice.MAX_RING);
                assertEquals(RxOffloads.bitsOf(rx), rm.state.get(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS));
                RxQueue r = RxQueue.attach(0, rm, regs.bar(0).mapped(IxgbeRegs.rxq(0) + IxgbeRegs.RDT, 4), pool, dev.portId(), Mempool.LCORE_ANY);
                assertEquals(RxOffloads.bitsOf(rx), r.offloads().bits);
                assertTrue(r.offloads().scatter && r.offloads().vlanStrip && r.offloads().checksums);
                assertEquals(TxContext.bitsOf(tx), tm.state.get(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS));

                int saved = rm.state.get(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS);
                rm.state.set(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS, 1 << 20);
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> RxQueue.attach(0, rm, regs.bar(0).mapped(IxgbeRegs.rxq(0) + IxgbeRegs.RDT, 4), pool, dev.portId(), Mempool.LCORE_ANY));
                assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
                rm.state.set(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS, saved);
                tm.state.set(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS, -1);
                assertThrows(IllegalStateException.class, () -> TxQueue.attach(0, tm, regs.bar(0).mapped(IxgbeRegs.txq(0) + IxgbeRegs.TDT, 4), Mempool.LCORE_ANY));
                tm.state.set(ValueLayout.JAVA_INT, QueueMemory.S_OFFLOADS, TxContext.bitsOf(tx));
                dev.close();
            }
            assertEquals(0, pool.inUseCount());
            pool.close();
        }
    }
}
