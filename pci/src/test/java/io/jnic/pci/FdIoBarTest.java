package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.pci.uio.UioPciDevice;
import io.jnic.sys.Io;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * I/O-port BAR access through a file: widths, byte order, bounds. A regular file stands in for sysfs
 * {@code resourceN} (same pread/pwrite calls, the kernel does the port access behind the real one).
 */
class FdIoBarTest {
    @Test
    void accessesHaveTheirWidthAndAreLittleEndian(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("resource0");
        Files.write(f, new byte[0x40]);
        int fd = Io.open(f.toString(), Io.O_RDWR);
        try {
            FdIoBar bar = new FdIoBar("0000:00:07.0", 0, 0x20, fd, 0x10);
            bar.write32(0x04, 0x11223344);
            bar.write16(0x0e, 0xBEEF);
            bar.write8(0x12, 0x1ff); // only the low byte goes out
            byte[] raw = Files.readAllBytes(f);
            assertEquals(0x44, raw[0x14] & 0xFF);
            assertEquals(0x11, raw[0x17] & 0xFF);
            assertEquals(0xEF, raw[0x1e] & 0xFF);
            assertEquals(0xBE, raw[0x1f] & 0xFF);
            assertEquals(0xFF, raw[0x22] & 0xFF);
            assertEquals(0, raw[0x23]); // the 1-byte write touched one byte
            assertEquals(0x11223344, bar.read32(0x04));
            assertEquals(0x3344, bar.read16(0x04));
            assertEquals(0xBEEF, bar.read16(0x0e)); // unsigned
            assertEquals(0xFF, bar.read8(0x12));
            assertEquals(0x20, bar.size());
        } finally {
            Io.close(fd);
        }
    }

    @Test
    void accessesOutsideTheBarAreRefusedWithTheRange(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("resource0");
        Files.write(f, new byte[0x40]);
        int fd = Io.open(f.toString(), Io.O_RDWR);
        try {
            FdIoBar bar = new FdIoBar("0000:00:07.0", 0, 0x20, fd, 0);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> bar.read32(0x1e));
            assertEquals("0000:00:07.0 I/O BAR0: a 4-byte access at 0x1e lies outside its 0x20 ports", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> bar.write8(-1, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> bar.write16(0x1f, 0));
            bar.read8(0x1f); // the last port is fine
        } finally {
            Io.close(fd);
        }
    }

    @Test
    void aShortFileIsAShortReadNotGarbage(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("resource0");
        Files.write(f, new byte[2]);
        int fd = Io.open(f.toString(), Io.O_RDWR);
        try {
            FdIoBar bar = new FdIoBar("0000:00:07.0", 0, 0x20, fd, 0);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> bar.read32(0));
            assertEquals("0000:00:07.0 I/O BAR0: 4-byte read at 0x0 returned 2 bytes", e.getMessage());
        } finally {
            Io.close(fd);
        }
    }

    @Test
    void aClosedDescriptorGivesAnExplainedError() {
        FdIoBar bar = new FdIoBar("0000:00:07.0", 0, 0x20, 1_000_000, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bar.write16(0x10, 1));
        assertTrue(e.getMessage().startsWith("0000:00:07.0 I/O BAR0: 2-byte write at 0x10 failed (pwrite("), e.getMessage());
        assertTrue(e.getMessage().contains("EBADF"), e.getMessage());
    }

    /** UIO: an I/O BAR's sysfs resource file, opened read-write; a memory BAR is refused with the way out. */
    @Test
    void uioOpensTheResourceFileOfAnIoBar(@TempDir Path dir) throws IOException {
        FakeSysfs fs = new FakeSysfs(dir);
        Path real = fs.device("0000:00:07.0", 0x1af4, 0x1000, 0x020000, "uio_pci_generic");
        Files.write(real.resolve("config"), new byte[256]);
        Files.write(real.resolve("resource1"), new byte[0x20]);
        Files.createDirectories(real.resolve("uio/uio5"));
        Path dev = Files.createDirectories(dir.resolve("dev"));
        Files.createFile(dev.resolve("uio5"));
        try (UioPciDevice d = UioPciDevice.open(fs.sysfs(), dev, PciAddress.parse("00:07.0"))) {
            PciIoBar io = d.ioBar(1); // resource line 1: 0xc000-0xc01f, IORESOURCE_IO
            assertEquals(0x20, io.size());
            io.write16(0x0e, 2);
            assertEquals(2, io.read16(0x0e));
            assertEquals(2, Files.readAllBytes(real.resolve("resource1"))[0x0e]);
            IllegalArgumentException mem = assertThrows(IllegalArgumentException.class, () -> d.ioBar(0));
            assertEquals("0000:00:07.0 BAR0 is not an I/O-port BAR (BAR0[mem32 0xfe000000 size 0x20000]): use bar(0)",
                    mem.getMessage());
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> d.ioBar(2));
            assertEquals("0000:00:07.0 has no BAR2", none.getMessage());
        }
    }

    @Test
    void transportsWithoutPortAccessSaySo() {
        PciDevice d = new PciDevice() {
            public String name() { return "/run/devsim/0.sock"; }
            public String transport() { return "vfio-user"; }
            public DmaAddressing dmaAddressing() { return DmaAddressing.IOVA; }
            public int configRead(int offset, int size) { return 0; }
            public void configWrite(int offset, int size, int value) { }
            public PciBar bar(int index) { throw new IllegalArgumentException(); }
            public void dmaMap(int fd, long fdOffset, java.lang.foreign.MemorySegment memory, long iova) { }
            public void dmaUnmap(long iova, long size) { }
            public int interruptCount(InterruptType type) { return 0; }
            public void enableInterrupts(InterruptType type, int[] eventfds) { }
            public void disableInterrupts(InterruptType type) { }
            public void reset() { }
            public void close() { }
        };
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> d.ioBar(0));
        assertEquals("/run/devsim/0.sock (vfio-user) offers no access to I/O-port BARs; use VFIO or UIO", e.getMessage());
    }
}
