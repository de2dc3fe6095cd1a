package io.jnic.devsim;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.PciConfigSpace;
import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice;
import io.jnic.pci.vfiouser.VfioUserDevice;
import io.jnic.pci.vfiouser.VfioUserException;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model as a driver meets it: over vfio-user with jnic's own client, queue registers through the
 * sparse-mmap pages, DMA into memfd memory registered with DMA_MAP, interrupts as eventfds.
 */
class VfioUserIntegrationTest {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final VarHandle INT = LE_INT.varHandle();
    static final long IOVA = 0x1_0000_0000L;
    static final long MEM = 4 << 20;

    @TempDir
    Path dir;

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }

    /** Driver-side bring-up (datasheet 4.6.3): bus master, reset, wait for EEPROM and DMA init, link. */
    static void bringUp(PciDevice d) throws InterruptedException {
        d.configWrite(PciConfigSpace.COMMAND, 2, d.configRead(PciConfigSpace.COMMAND, 2)
                | PciConfigSpace.COMMAND_MEMORY | PciConfigSpace.COMMAND_BUS_MASTER);
        PciBar bar = d.bar(0);
        bar.write32(CTRL, CTRL_RST);
        await("reset done", () -> (bar.read32(CTRL) & CTRL_RST) == 0);
        await("EEPROM auto-read", () -> (bar.read32(EEC) & EEC_ARD) != 0);
        await("DMA init", () -> (bar.read32(RDRXCTL) & RDRXCTL_DMAIDONE) != 0);
        bar.write32(AUTOC, bar.read32(AUTOC) | AUTOC_AN_RESTART);
        await("link up", () -> (bar.read32(LINKS) & LINKS_UP) != 0);
        bar.read32(EICR);
    }

    @Test
    void aFrameCrossesThePairThroughVfioUserWithMsixInterrupts() throws Exception {
        int memFd = Mman.memfdCreate("vfio-user-test-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memFd, MEM);
        MemorySegment mem = Mman.mmap(MEM, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memFd, 0);
        int[] rxIrq = {Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK),
            Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK),
            Events.eventfd(0, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK)};
        try (Devsim sim = Devsim.start(Devsim.Config.of(2, "pair"))) {
            List<Path> sockets = sim.serveVfioUser(dir);
            try (VfioUserDevice tx = VfioUserDevice.connect(sockets.get(0));
                    VfioUserDevice rx = VfioUserDevice.connect(sockets.get(1))) {
                assertEquals(PCI_VENDOR_INTEL, rx.configRead(0, 2));
                assertEquals(PCI_DEVICE_82599_SFP, rx.configRead(2, 2));
                int cap = rx.configRead(0x34, 1);
                while (cap != 0 && rx.configRead(cap, 1) != 0x11) {
                    cap = rx.configRead(cap + 1, 1);
                }
                assertEquals(PciConfigSpace.CAP_MSIX, cap, "MSI-X capability in the list");
                assertEquals(MSIX_BAR, rx.configRead(cap + 4, 4) & 7, "MSI-X table in BAR4");
                assertEquals(MSIX_VECTORS, rx.interruptCount(PciDevice.InterruptType.MSIX));
                PciBar rbar = rx.bar(0);
                PciBar tbar = tx.bar(0);
                assertEquals(BAR0_SIZE, rbar.size());
                assertTrue(rbar.isMapped(0x1000, 0x1000) && rbar.isMapped(0x6000, 0x2000), "queue pages are mmapped");
                assertFalse(rbar.isMapped(EICR, 4), "interrupt registers are trapped");

                // without Bus Master Enable nothing moves: reset completes but DMA is off
                bringUp(rx);
                bringUp(tx);
                assertEquals(1, (rbar.read32(STATUS) & STATUS_LAN_ID_MASK) >>> STATUS_LAN_ID_SHIFT);

                rx.dmaMap(memFd, 0, mem, IOVA);
                tx.dmaMap(memFd, 0, mem, IOVA); // same memory for both "drivers": different rings below
                rx.enableInterrupts(PciDevice.InterruptType.MSIX, rxIrq);
                rbar.write32(GPIE, GPIE_MSIX_MODE | GPIE_PBA_SUPPORT);
                rbar.write32(IVAR0, IVAR_ALLOC_VAL | 1); // RX queue 0 -> vector 1
                rbar.write32(IVAR_MISC, (IVAR_ALLOC_VAL | 2) << 8); // other causes -> vector 2
                rbar.write32(EIAC, 0x2);
                rbar.write32(EIMS, 0x2 | EICR_LSC);
                rbar.write32(FCTRL, FCTRL_BAM);
                rbar.write32(RXCTRL, RXCTRL_RXEN);

                // RX ring at IOVA+0 (16 descriptors), buffers at +64K; TX ring at +1M, buffer at +1M+64K
                for (int i = 0; i < 16; i++) {
                    mem.set(LE_LONG, 16L * i, IOVA + 0x10000 + 2048L * i);
                    mem.set(LE_LONG, 16L * i + 8, 0);
                }
                int rq = rxq(0);
                rbar.write32(rq + RDBAL, (int) IOVA);
                rbar.write32(rq + RDBAH, (int) (IOVA >>> 32));
                rbar.write32(rq + RDLEN, 16 * DESC_SIZE);
                rbar.write32(rq + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT));
                rbar.write32(rq + RXDCTL, RXDCTL_ENABLE);
                await("RX queue enabled", () -> (rbar.read32(rq + RXDCTL) & RXDCTL_ENABLE) != 0);
                rbar.write32(rq + RDT, 15);

                long txRing = 0x100000;
                long txBuf = txRing + 0x10000;
                byte[] frame = new byte[128];
                for (int i = 0; i < 6; i++) {
                    frame[i] = (byte) 0xFF;
                }
                frame[12] = (byte) 0x88;
                frame[13] = (byte) 0xB5;
                for (int i = 14; i < frame.length; i++) {
                    frame[i] = (byte) i;
                }
                MemorySegment.copy(frame, 0, mem, ValueLayout.JAVA_BYTE, txBuf, frame.length);
                mem.set(LE_LONG, txRing, IOVA + txBuf);
                mem.set(LE_INT, txRing + 8, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS | TXD_CMD_DEXT
                        | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | frame.length);
                mem.set(LE_INT, txRing + 12, frame.length << 14);
                int tq = txq(0);
                tbar.write32(tq + TDBAL, (int) (IOVA + txRing));
                tbar.write32(tq + TDBAH, (int) ((IOVA + txRing) >>> 32));
                tbar.write32(tq + TDLEN, 8 * DESC_SIZE);
                tbar.write32(DMATXCTL, DMATXCTL_TE);
                tbar.write32(tq + TXDCTL, TXDCTL_ENABLE);
                await("TX queue enabled", () -> (tbar.read32(tq + TXDCTL) & TXDCTL_ENABLE) != 0);
                MemorySegment tdt = tbar.mapped(tq + TDT, 4);
                INT.setRelease(tdt, 0L, 1); // the doorbell: one store into the mapped page

                await("TX descriptor done", () -> (mem.get(LE_INT, txRing + 12) & TXD_STAT_DD) != 0);
                await("RX descriptor done", () -> ((int) INT.getAcquire(mem, 8L) & RXD_STAT_DD) != 0);
                assertEquals(RXD_STAT_DD | RXD_STAT_EOP, mem.get(LE_INT, 8) & 0xFFFFF);
                assertEquals(frame.length, mem.get(LE_INT, 12) & 0xFFFF);
                byte[] got = new byte[frame.length];
                MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, 0x10000, got, 0, got.length);
                assertEquals(java.util.HexFormat.of().formatHex(frame), java.util.HexFormat.of().formatHex(got));
                assertTrue(Events.pollIn(rxIrq[1], 5000), "MSI-X vector 1 (RX queue 0) signalled its eventfd");
                assertEquals(1, rbar.read32(rq + RDH), "RDH through the mapped page");
                assertEquals(1, tbar.read32(GPTC));
                assertEquals(1, rbar.read32(GPRC));

                // a fault from the control interface: link down -> LSC on the misc vector, LINKS down
                assertEquals("ok", sim.command("link-down 1"));
                assertTrue(Events.pollIn(rxIrq[2], 5000), "LSC signalled vector 2");
                assertEquals(0, rbar.read32(LINKS) & LINKS_UP);
                assertEquals(EICR_LSC, rbar.read32(EICR) & EICR_LSC);

                // sub-dword register accesses are refused, with the reason, as EINVAL
                MemorySegment two = MemorySegment.ofArray(new byte[2]);
                VfioUserException e = assertThrows(VfioUserException.class, () -> rx.readRegion(0, EICR, two));
                assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());

                // VFIO reset: registers and bus master back to their defaults
                rx.reset();
                assertEquals(0, rx.configRead(PciConfigSpace.COMMAND, 2) & PciConfigSpace.COMMAND_BUS_MASTER);
                assertEquals(0, rbar.read32(rq + RXDCTL) & RXDCTL_ENABLE);
                assertEquals(0, rbar.read32(GPIE));
                rx.dmaUnmap(IOVA, MEM);
                tx.dmaUnmap(IOVA, MEM);
                await("TX queue stopped by the unmap", () -> (tbar.read32(tq + TXDCTL) & TXDCTL_ENABLE) == 0);
            }
            assertEquals(null, sim.loop().failure(), "the device thread survived everything");
        } finally {
            for (int fd : rxIrq) {
                Io.close(fd);
            }
            Mman.munmap(mem);
            Io.close(memFd);
        }
    }
}
