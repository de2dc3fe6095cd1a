package io.jnic.devsim;

import static io.jnic.devsim.VfioUserIntegrationTest.INT;
import static io.jnic.devsim.VfioUserIntegrationTest.LE_INT;
import static io.jnic.devsim.VfioUserIntegrationTest.LE_LONG;
import static io.jnic.devsim.VfioUserIntegrationTest.await;
import static io.jnic.devsim.VfioUserIntegrationTest.bringUp;
import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.PciBar;
import io.jnic.pci.vfiouser.VfioUser;
import io.jnic.pci.vfiouser.VfioUserDevice;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory a client maps without a descriptor (QEMU does so for ROM and BAR ranges): the 82599 model reads TX
 * buffers and writes RX buffers there through the server's DMA_READ / DMA_WRITE messages, which the client
 * serves from its memory; rings there are refused (the model keeps them as mapped memory).
 */
class DmaWithoutDescriptorTest {
    static final long RING_IOVA = 0x1_0000_0000L;
    static final long MSG_IOVA = 0x2_0000_0000L;
    static final long MEM = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void framesMoveThroughBuffersTheModelReachesOnlyByMessages() throws Exception {
        int memFd = Mman.memfdCreate("rings", Mman.MFD_CLOEXEC);
        Io.ftruncate(memFd, MEM);
        MemorySegment rings = Mman.mmap(MEM, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memFd, 0);
        try (Arena arena = Arena.ofShared(); Devsim sim = Devsim.start(Devsim.Config.of(2, "pair"))) {
            MemorySegment txBufs = arena.allocate(0x10000, 4096); // no descriptor: reached by messages only
            MemorySegment rxBufs = arena.allocate(0x10000, 4096);
            List<Path> sockets = sim.serveVfioUser(dir);
            try (VfioUserDevice tx = VfioUserDevice.connect(sockets.get(0));
                    VfioUserDevice rx = VfioUserDevice.connect(sockets.get(1))) {
                bringUp(rx);
                bringUp(tx);
                rx.dmaMap(memFd, 0, rings.asSlice(0, MEM / 2), RING_IOVA);
                tx.dmaMap(memFd, MEM / 2, rings.asSlice(MEM / 2, MEM / 2), RING_IOVA);
                rx.dmaMap(-1, 0, rxBufs, MSG_IOVA, VfioUser.DMA_FLAG_READ | VfioUser.DMA_FLAG_WRITE);
                tx.dmaMap(-1, 0, txBufs, MSG_IOVA, VfioUser.DMA_FLAG_READ);
                PciBar rbar = rx.bar(0);
                PciBar tbar = tx.bar(0);
                rbar.write32(FCTRL, FCTRL_BAM);
                rbar.write32(RXCTRL, RXCTRL_RXEN);

                // a ring in message-only memory is refused: the queue stays disabled
                int rq1 = rxq(1);
                rbar.write32(rq1 + RDBAL, (int) MSG_IOVA);
                rbar.write32(rq1 + RDBAH, (int) (MSG_IOVA >>> 32));
                rbar.write32(rq1 + RDLEN, 16 * DESC_SIZE);
                rbar.write32(rq1 + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT));
                rbar.write32(rq1 + RXDCTL, RXDCTL_ENABLE);

                // RX ring 0 in mapped memory, its buffers in message-only memory
                for (int i = 0; i < 16; i++) {
                    rings.set(LE_LONG, 16L * i, MSG_IOVA + 2048L * i);
                    rings.set(LE_LONG, 16L * i + 8, 0);
                }
                int rq = rxq(0);
                rbar.write32(rq + RDBAL, (int) RING_IOVA);
                rbar.write32(rq + RDBAH, (int) (RING_IOVA >>> 32));
                rbar.write32(rq + RDLEN, 16 * DESC_SIZE);
                rbar.write32(rq + SRRCTL, 2 | (SRRCTL_DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT));
                rbar.write32(rq + RXDCTL, RXDCTL_ENABLE);
                await("RX queue enabled", () -> (rbar.read32(rq + RXDCTL) & RXDCTL_ENABLE) != 0);
                rbar.write32(rq + RDT, 15);

                byte[] frame = new byte[300];
                for (int i = 0; i < 6; i++) {
                    frame[i] = (byte) 0xFF;
                }
                frame[12] = (byte) 0x88;
                frame[13] = (byte) 0xB5;
                for (int i = 14; i < frame.length; i++) {
                    frame[i] = (byte) (i * 3);
                }
                MemorySegment.copy(frame, 0, txBufs, ValueLayout.JAVA_BYTE, 0x800, frame.length);
                long txRing = MEM / 2; // the TX driver's half of the memfd, at its RING_IOVA
                rings.set(LE_LONG, txRing, MSG_IOVA + 0x800);
                rings.set(LE_INT, txRing + 8, TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS | TXD_CMD_DEXT
                        | (TXD_DTYP_DATA << TXD_DTYP_SHIFT) | frame.length);
                rings.set(LE_INT, txRing + 12, frame.length << 14);
                int tq = txq(0);
                tbar.write32(tq + TDBAL, (int) RING_IOVA);
                tbar.write32(tq + TDBAH, (int) (RING_IOVA >>> 32));
                tbar.write32(tq + TDLEN, 8 * DESC_SIZE);
                tbar.write32(DMATXCTL, DMATXCTL_TE);
                tbar.write32(tq + TXDCTL, TXDCTL_ENABLE);
                await("TX queue enabled", () -> (tbar.read32(tq + TXDCTL) & TXDCTL_ENABLE) != 0);
                INT.setRelease(tbar.mapped(tq + TDT, 4), 0L, 1);

                await("TX descriptor done", () -> (rings.get(LE_INT, txRing + 12) & TXD_STAT_DD) != 0);
                await("RX descriptor done", () -> ((int) INT.getAcquire(rings, 8L) & RXD_STAT_DD) != 0);
                assertEquals(RXD_STAT_DD | RXD_STAT_EOP, rings.get(LE_INT, 8) & 0xFFFFF, "no RX error");
                assertEquals(frame.length, rings.get(LE_INT, 12) & 0xFFFF);
                byte[] got = rxBufs.asSlice(0, frame.length).toArray(ValueLayout.JAVA_BYTE);
                assertEquals(HexFormat.of().formatHex(frame), HexFormat.of().formatHex(got));
                assertTrue(tx.servedDmaRequests() >= 1, "the TX buffer was read by DMA_READ: " + tx.servedDmaRequests());
                assertTrue(rx.servedDmaRequests() >= 1, "the RX buffer was written by DMA_WRITE: " + rx.servedDmaRequests());
                // the device refuses when its scan of the mapped RXDCTL bits reaches queue 1: wait for it
                await("a ring in message-only memory is refused", () -> (rbar.read32(rq1 + RXDCTL) & RXDCTL_ENABLE) == 0);
                assertEquals(0, tx.refusedServerRequests() + rx.refusedServerRequests());
            }
            assertEquals(null, sim.loop().failure(), "the device thread survived");
        } finally {
            Mman.munmap(rings);
            Io.close(memFd);
        }
    }
}
