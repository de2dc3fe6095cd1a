package io.jnic.devsim;

import static io.jnic.devsim.VfioUserIntegrationTest.IOVA;
import static io.jnic.devsim.VfioUserIntegrationTest.INT;
import static io.jnic.devsim.VfioUserIntegrationTest.LE_INT;
import static io.jnic.devsim.VfioUserIntegrationTest.LE_LONG;
import static io.jnic.devsim.VfioUserIntegrationTest.await;
import static io.jnic.devsim.VfioUserIntegrationTest.bringUp;
import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jnic.pci.PciBar;
import io.jnic.pci.vfiouser.VfioUserDevice;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A port keeps running when its vfio-user client leaves (as a VFIO device outlives one opener): its RX queue
 * keeps receiving into the departed client's memory, a new client adopts it as it is, and a global reset by a
 * new driver drops the old client's DMA windows.
 */
class DeviceOutlivesClientTest {
    static final long MEM = 2 << 20;

    @TempDir
    Path dir;

    @Test
    void aPortKeepsReceivingAfterItsClientLeavesAndANewClientAdoptsOrResetsIt() throws Exception {
        int memFd = Mman.memfdCreate("outlive-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memFd, MEM);
        MemorySegment mem = Mman.mmap(MEM, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memFd, 0);
        try (Devsim sim = Devsim.start(Devsim.Config.of(2, "pair"))) {
            List<Path> sockets = sim.serveVfioUser(dir);
            int rq = rxq(0);
            try (VfioUserDevice rx = VfioUserDevice.connect(sockets.get(1))) {
                bringUp(rx);
                rx.dmaMap(memFd, 0, mem, IOVA);
                PciBar bar = rx.bar(0);
                bar.write32(FCTRL, FCTRL_BAM);
                bar.write32(RXCTRL, RXCTRL_RXEN);
                for (int i = 0; i < 16; i++) {
                    mem.set(LE_LONG, 16L * i, IOVA + 0x10000 + 2048L * i);
                    mem.set(LE_LONG, 16L * i + 8, 0);
                }
                bar.write32(rq + RDBAL, (int) IOVA);
                bar.write32(rq + RDBAH, (int) (IOVA >>> 32));
                bar.write32(rq + RDLEN, 16 * DESC_SIZE);
                bar.write32(rq + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT));
                bar.write32(rq + RXDCTL, RXDCTL_ENABLE);
                await("RX queue enabled", () -> (bar.read32(rq + RXDCTL) & RXDCTL_ENABLE) != 0);
                bar.write32(rq + RDT, 15);
            } // the RX port's client is gone; its memory (still mapped here, as by a secondary) stays in the device
            assertEquals(1, sim.dma(1).count(), "the DMA window outlives the client");

            long txRing = 0x100000;
            long txBuf = txRing + 0x10000;
            try (VfioUserDevice tx = VfioUserDevice.connect(sockets.get(0))) {
                bringUp(tx);
                tx.dmaMap(memFd, 0, mem, IOVA);
                byte[] frame = new byte[96];
                java.util.Arrays.fill(frame, 0, 6, (byte) 0xFF);
                frame[12] = (byte) 0x88;
                frame[13] = (byte) 0xB5;
                MemorySegment.copy(frame, 0, mem, ValueLayout.JAVA_BYTE, txBuf, frame.length);
                mem.set(LE_LONG, txRing, IOVA + txBuf);
                mem.set(LE_INT, txRing + 8, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS | TXD_CMD_DEXT
                        | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | frame.length);
                mem.set(LE_INT, txRing + 12, frame.length << 14);
                PciBar tbar = tx.bar(0);
                int tq = txq(0);
                tbar.write32(tq + TDBAL, (int) (IOVA + txRing));
                tbar.write32(tq + TDBAH, (int) ((IOVA + txRing) >>> 32));
                tbar.write32(tq + TDLEN, 8 * DESC_SIZE);
                tbar.write32(DMATXCTL, DMATXCTL_TE);
                tbar.write32(tq + TXDCTL, TXDCTL_ENABLE);
                await("TX queue enabled", () -> (tbar.read32(tq + TXDCTL) & TXDCTL_ENABLE) != 0);
                INT.setRelease(tbar.mapped(tq + TDT, 4), 0L, 1);
                long t0 = System.nanoTime();
                await("the client-less RX port received the frame", () -> ((int) INT.getAcquire(mem, 8L) & RXD_STAT_DD) != 0);
                System.out.printf("frame received by the orphaned port after %d us%n", (System.nanoTime() - t0) / 1000);
                assertEquals(frame.length, mem.get(LE_INT, 12) & 0xFFFF);
            }

            try (VfioUserDevice adopter = VfioUserDevice.connect(sockets.get(1))) {
                PciBar bar = adopter.bar(0);
                assertEquals(RXDCTL_ENABLE, bar.read32(rq + RXDCTL) & RXDCTL_ENABLE, "adopted as it is: no reset");
                assertEquals(1, bar.read32(rq + RDH));
                assertEquals(1, sim.dma(1).count());
                bar.write32(CTRL, CTRL_RST); // a new driver's global reset: the old client's memory is let go
                await("reset done", () -> (bar.read32(CTRL) & CTRL_RST) == 0);
                assertEquals(0, sim.dma(1).count(), "a reset drops the departed client's DMA windows");
            }
            assertNull(sim.loop().failure());
        } finally {
            Mman.munmap(mem);
            Io.close(memFd);
        }
    }

    @Test
    void aClientThatShrinksItsDmaMemoryCostsItsPortNotTheDevice() throws Exception {
        int rxFd = Mman.memfdCreate("shrunk-dma", Mman.MFD_CLOEXEC); // not sealable, as the memory module's
        int txFd = Mman.memfdCreate("tx-dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(rxFd, MEM);
        Io.ftruncate(txFd, MEM);
        MemorySegment rxMem = Mman.mmap(MEM, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, rxFd, 0);
        MemorySegment txMem = Mman.mmap(MEM, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, txFd, 0);
        long txIova = IOVA + MEM;
        try (Devsim sim = Devsim.start(Devsim.Config.of(2, "pair"))) {
            List<Path> sockets = sim.serveVfioUser(dir);
            int rq = rxq(0);
            int tq = txq(0);
            try (VfioUserDevice rx = VfioUserDevice.connect(sockets.get(1));
                    VfioUserDevice tx = VfioUserDevice.connect(sockets.get(0))) {
                bringUp(rx);
                bringUp(tx);
                rx.dmaMap(rxFd, 0, rxMem, IOVA);
                tx.dmaMap(txFd, 0, txMem, txIova);
                PciBar bar = rx.bar(0);
                bar.write32(FCTRL, FCTRL_BAM);
                bar.write32(RXCTRL, RXCTRL_RXEN);
                for (int i = 0; i < 16; i++) {
                    rxMem.set(LE_LONG, 16L * i, IOVA + 0x10000 + 2048L * i);
                    rxMem.set(LE_LONG, 16L * i + 8, 0);
                }
                bar.write32(rq + RDBAL, (int) IOVA);
                bar.write32(rq + RDBAH, (int) (IOVA >>> 32));
                bar.write32(rq + RDLEN, 16 * DESC_SIZE);
                bar.write32(rq + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT));
                bar.write32(rq + RXDCTL, RXDCTL_ENABLE);
                await("RX queue enabled", () -> (bar.read32(rq + RXDCTL) & RXDCTL_ENABLE) != 0);
                bar.write32(rq + RDT, 15);

                Io.ftruncate(rxFd, 0); // the client pulls the memory from under the device (rxMem is untouchable now)

                PciBar tbar = tx.bar(0);
                for (int i = 0; i < 2; i++) {
                    long buf = 0x10000 + 2048L * i;
                    txMem.set(ValueLayout.JAVA_LONG_UNALIGNED, buf, -1L); // broadcast destination
                    txMem.set(ValueLayout.JAVA_SHORT_UNALIGNED, buf + 12, (short) 0xB588);
                    txMem.set(LE_LONG, 16L * i, txIova + buf);
                    txMem.set(LE_INT, 16L * i + 8, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS | TXD_CMD_DEXT
                            | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | 64);
                    txMem.set(LE_INT, 16L * i + 12, 64 << 14);
                }
                tbar.write32(tq + TDBAL, (int) txIova);
                tbar.write32(tq + TDBAH, (int) (txIova >>> 32));
                tbar.write32(tq + TDLEN, 8 * DESC_SIZE);
                tbar.write32(DMATXCTL, DMATXCTL_TE);
                tbar.write32(tq + TXDCTL, TXDCTL_ENABLE);
                await("TX queue enabled", () -> (tbar.read32(tq + TXDCTL) & TXDCTL_ENABLE) != 0);
                INT.setRelease(tbar.mapped(tq + TDT, 4), 0L, 1);
                await("the DMA fault was survived", () -> sim.loop().dmaFaults() >= 1);
                assertNull(sim.loop().failure(), "the device loop lives on");
                assertEquals(0, bar.read32(rq + RXDCTL) & RXDCTL_ENABLE, "the faulting port was reset");
                INT.setRelease(tbar.mapped(tq + TDT, 4), 0L, 2); // the other port still works
                await("the second frame sent", () -> (txMem.get(LE_INT, 16L + 12) & TXD_STAT_DD) != 0);
            }
            assertNull(sim.loop().failure());
        } finally {
            Mman.munmap(rxMem);
            Mman.munmap(txMem);
            Io.close(rxFd);
            Io.close(txFd);
        }
    }
}
