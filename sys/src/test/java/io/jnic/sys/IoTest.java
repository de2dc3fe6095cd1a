package io.jnic.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoTest {
    @TempDir
    Path dir;

    @Test
    void openOfAMissingFileNamesThePathAndErrno() {
        String missing = dir.resolve("nope").toString();
        SysException e = assertThrows(SysException.class, () -> Io.open(missing, Io.O_RDWR));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("open(\"" + missing + "\", O_RDWR)"), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT (No such file or directory)"), e.getMessage());
    }

    @Test
    void preadAndPwriteRoundTripAtOffsets() {
        int fd = Io.open(dir.resolve("f").toString(), Io.O_RDWR | Io.O_CREAT | Io.O_CLOEXEC, 0600);
        try (Arena arena = Arena.ofConfined()) {
            Io.ftruncate(fd, 8192);
            MemorySegment buf = arena.allocate(16);
            buf.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
            buf.set(ValueLayout.JAVA_LONG, 8, 42L);
            assertEquals(16, Io.pwrite(fd, buf, 16, 4096));
            MemorySegment back = arena.allocate(16);
            assertEquals(16, Io.pread(fd, back, 16, 4096));
            assertEquals(0x1122334455667788L, back.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(42L, back.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(16, Io.read(fd, back, 16), "plain read from offset 0 of the truncated file");
            assertEquals(0L, back.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            Io.close(fd);
        }
    }

    @Test
    void readBeyondTheBufferIsRefusedBeforeTheCall() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IndexOutOfBoundsException.class, () -> Io.read(0, arena.allocate(4), 8));
        }
    }

    @Test
    void flockExcludesASecondOpenFileDescription() {
        String path = dir.resolve("lock").toString();
        int a = Io.open(path, Io.O_RDWR | Io.O_CREAT | Io.O_CLOEXEC, 0600);
        int b = Io.open(path, Io.O_RDWR | Io.O_CLOEXEC);
        try {
            assertTrue(Io.flock(a, Io.LOCK_EX | Io.LOCK_NB));
            assertFalse(Io.flock(b, Io.LOCK_EX | Io.LOCK_NB), "second description must see the lock");
            assertTrue(Io.flock(b, Io.LOCK_SH | Io.LOCK_NB) == false);
            Io.flock(a, Io.LOCK_UN);
            assertTrue(Io.flock(b, Io.LOCK_EX | Io.LOCK_NB));
        } finally {
            Io.close(a);
            Io.close(b);
        }
    }

    @Test
    void nonBlockingPipeReadReturnsMinusOneAndIoctlCountsBytes() {
        int[] p = Io.pipe(Io.O_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            Io.setNonBlocking(p[0], true);
            assertTrue((Io.fcntl(p[0], Io.F_GETFL, 0) & Io.O_NONBLOCK) != 0);
            MemorySegment buf = arena.allocate(8);
            assertEquals(-1, Io.read(p[0], buf, 8));
            buf.set(ValueLayout.JAVA_INT, 0, 7);
            assertEquals(4, Io.write(p[1], buf, 4));
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            final long fionread = 0x541B;
            Io.ioctl(p[0], fionread, count);
            assertEquals(4, count.get(ValueLayout.JAVA_INT, 0));
            assertEquals(4, Io.read(p[0], buf, 8));
            assertEquals(7, buf.get(ValueLayout.JAVA_INT, 0));
        } finally {
            Io.close(p[0]);
            Io.close(p[1]);
        }
    }

    @Test
    void ioctlOnABadDescriptorSaysEbadf() {
        SysException e = assertThrows(SysException.class, () -> Io.ioctl(-1, 0x541B, 0L));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().startsWith("ioctl(-1, 0x541b, 0) failed: EBADF"), e.getMessage());
    }

    @Test
    void closeTwiceSaysEbadf() {
        int[] p = Io.pipe(Io.O_CLOEXEC);
        Io.close(p[1]);
        Io.close(p[0]);
        assertEquals(Errno.EBADF, assertThrows(SysException.class, () -> Io.close(p[0])).errno());
    }

    @Test
    void fallocateAllocatesAMemfdAndFailsOnAPipe() {
        int fd = Mman.memfdCreate("jnic-fallocate", Mman.MFD_CLOEXEC);
        try {
            Io.fallocate(fd, 0, 0, 1 << 16);
            assertEquals(1 << 16, sizeOf(fd), "the file grew to the range");
        } finally {
            Io.close(fd);
        }
        int[] p = Io.pipe(Io.O_CLOEXEC);
        try {
            SysException e = assertThrows(SysException.class, () -> Io.fallocate(p[1], 0, 0, 4096));
            assertEquals(Errno.ESPIPE, e.errno());
            assertTrue(e.getMessage().startsWith("fallocate(" + p[1] + ", 0, 0x0, 4096) failed: ESPIPE"), e.getMessage());
        } finally {
            Io.close(p[0]);
            Io.close(p[1]);
        }
    }

    private static long sizeOf(int fd) {
        try {
            return java.nio.file.Files.size(Path.of("/proc/self/fd/" + fd));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
