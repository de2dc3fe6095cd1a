package io.jnic.pci.vfiouser;

import static io.jnic.pci.vfiouser.TestDeviceModel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnic.pci.PciBar;
import io.jnic.pci.PciDevice.InterruptType;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import io.jnic.testsupport.ChildJvm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device served by another JVM: descriptors, mappings and eventfds really cross a process boundary. */
class VfioUserCrossProcessTest {
    @TempDir
    Path dir;

    @Test
    void driverStyleSessionAgainstAServerInAChildJvm() throws Exception {
        Path socket = dir.resolve("child.sock");
        ChildJvm child = ChildJvm.of(TestDeviceServerMain.class).args(socket.toString())
                .closeGrace(Duration.ofSeconds(10)).start(); // it ends when its stdin closes
        int memfd = Mman.memfdCreate("dma", Mman.MFD_CLOEXEC);
        Io.ftruncate(memfd, 0x4000);
        MemorySegment mem = Mman.mmap(0x4000, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, memfd, 0);
        int efd = Events.eventfd(0, Events.EFD_CLOEXEC);
        try {
            assertEquals("ready", child.next(Duration.ofSeconds(60)));
            try (VfioUserDevice d = VfioUserDevice.connect(socket, VfioUserDeviceTest.CLIENT)) {
                assertEquals(VENDOR_ID, d.configRead(0, 2));
                // a doorbell store through the mapping is seen by the server (read back through a message)
                PciBar bar0 = d.bar(0);
                bar0.write32(DOORBELL_OFFSET + 0x10, 0x7e57);
                MemorySegment viaServer = MemorySegment.ofArray(new byte[4]);
                d.readRegion(0, DOORBELL_OFFSET + 0x10, viaServer);
                assertEquals(0x7e57, viaServer.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
                // the server's DMA lands in our memory and its interrupt in our eventfd
                long iova = 0x8000_0000L;
                d.dmaMap(memfd, 0, mem, iova);
                d.enableInterrupts(InterruptType.MSIX, new int[] {efd});
                PciBar bar2 = d.bar(2);
                bar2.write32(DMA_ADDR_LO, (int) (iova + 0x3000));
                bar2.write32(DMA_ADDR_HI, (int) ((iova + 0x3000) >>> 32));
                bar2.write32(DMA_GO, 0xd0d0cafe);
                assertEquals(0xd0d0cafe, mem.get(ValueLayout.JAVA_INT_UNALIGNED, 0x3000));
                assertEquals(1, Events.eventfdRead(efd));
                d.disableInterrupts(InterruptType.MSIX);
                d.dmaUnmap(iova, 0x4000);
            }
        } finally {
            child.closeInput();
            child.close();
            Mman.munmap(mem);
            Io.close(memfd);
            Io.close(efd);
        }
        assertEquals(0, child.process().exitValue());
    }
}
