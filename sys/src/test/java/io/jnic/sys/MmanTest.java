package io.jnic.sys;

import io.jnic.sys.testing.TestResources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MmanTest {
    private static final long MB2 = 2L << 20;

    @Test
    void anonymousMappingIsReadableWritableLockableAndUnmapped() {
        MemorySegment m = Mman.mmap(1 << 16, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        assertEquals(1 << 16, m.byteSize());
        m.set(ValueLayout.JAVA_LONG, 8, 99L);
        assertEquals(99L, m.get(ValueLayout.JAVA_LONG, 8));
        Mman.mlock(m);
        Mman.madvise(m, Mman.MADV_DONTFORK);
        Mman.munlock(m);
        Mman.munmap(m);
    }

    @Test
    void memfdMappedTwiceSharesItsPages() {
        int fd = Mman.memfdCreate("jnic-test", Mman.MFD_CLOEXEC);
        try {
            Io.ftruncate(fd, 4096);
            int prot = Mman.PROT_READ | Mman.PROT_WRITE;
            MemorySegment a = Mman.mmap(4096, prot, Mman.MAP_SHARED, fd, 0);
            MemorySegment b = Mman.mmap(4096, prot, Mman.MAP_SHARED, fd, 0);
            assertNotEquals(a.address(), b.address());
            a.set(ValueLayout.JAVA_INT, 100, 0xCAFE);
            assertEquals(0xCAFE, b.get(ValueLayout.JAVA_INT, 100));
            Mman.munmap(a);
            Mman.munmap(b);
        } finally {
            Io.close(fd);
        }
    }

    @Test
    void mmapFailureNamesFlagsAndErrno() {
        SysException e = assertThrows(SysException.class,
                () -> Mman.mmap(4096, Mman.PROT_READ, Mman.MAP_SHARED, -1, 0));
        assertEquals(Errno.EBADF, e.errno());
        assertTrue(e.getMessage().contains("PROT_READ, MAP_SHARED, -1"), e.getMessage());
    }

    @Test
    void hugetlbMemfdWhenHugepagesAreReserved() throws IOException {
        TestResources.assumeHugepages(1); // memfd_create(MFD_HUGETLB) succeeds on an empty pool: map one to know
        long free = freeHugepages();
        int fd = Mman.memfdCreate("jnic-huge", Mman.MFD_CLOEXEC | Mman.MFD_HUGETLB | Mman.MFD_HUGE_2MB);
        try {
            Io.ftruncate(fd, MB2);
            MemorySegment m = Mman.mmap(MB2, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
            m.set(ValueLayout.JAVA_LONG, MB2 - 8, 7L);
            assertEquals(7L, m.get(ValueLayout.JAVA_LONG, MB2 - 8));
            assertTrue(freeHugepages() < free, "the mapping took a hugepage");
            Mman.munmap(m);
        } finally {
            Io.close(fd);
        }
    }

    @Test
    void hugetlbMemfdOfAnUnalignedSizeIsRefusedWithEinval() throws IOException {
        TestResources.assumeHugepages(1);
        int fd = Mman.memfdCreate("jnic-huge", Mman.MFD_CLOEXEC | Mman.MFD_HUGETLB | Mman.MFD_HUGE_2MB);
        try {
            SysException e = assertThrows(SysException.class, () -> Io.ftruncate(fd, 4096 + MB2 - 1));
            assertEquals(Errno.EINVAL, e.errno());
        } finally {
            Io.close(fd);
        }
    }

    static long freeHugepages() throws IOException {
        Path p = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
        return Files.exists(p) ? Long.parseLong(Files.readString(p).trim()) : 0;
    }
}
