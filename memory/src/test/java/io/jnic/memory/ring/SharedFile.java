package io.jnic.memory.ring;

import io.jnic.sys.testing.TestResources;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/** A file under /dev/shm or /dev/hugepages mapped shared: the memory tests share between processes. */
public final class SharedFile implements AutoCloseable {

    public static final long HUGE_PAGE = 2L << 20;

    private final Path path;
    private final MemorySegment mapping;
    private final boolean owner;

    private SharedFile(Path path, MemorySegment mapping, boolean owner) {
        this.path = path;
        this.mapping = mapping;
        this.owner = owner;
    }

    /** Creates (truncating) and maps {@code size} bytes; the file is deleted on close. */
    public static SharedFile create(Path path, long size) {
        int fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CREAT | Io.O_TRUNC | Io.O_CLOEXEC, 0600);
        try {
            Io.ftruncate(fd, size);
            return new SharedFile(path, Mman.mmap(size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0), true);
        } finally {
            Io.close(fd);
        }
    }

    /** Maps an existing file of {@code size} bytes (not deleted on close). */
    public static SharedFile open(Path path, long size) {
        int fd = Io.open(path.toString(), Io.O_RDWR | Io.O_CLOEXEC);
        try {
            return new SharedFile(path, Mman.mmap(size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0), false);
        } finally {
            Io.close(fd);
        }
    }

    /** A unique path under /dev/shm. */
    public static Path shmPath(String tag) {
        return Path.of("/dev/shm", "jnic-test-" + ProcessHandle.current().pid() + "-" + tag + "-" + System.nanoTime());
    }

    /** A unique path under /dev/hugepages, or null when no free 2 MiB hugepages are mounted there. */
    public static Path hugePath(String tag, int pagesNeeded) {
        Path dir = TestResources.HUGE_DIR;
        // a file there must really map that many pages: the pool's counters alone miss an unwritable mount
        if (TestResources.hugepageFilesMissing(dir, pagesNeeded) != null) {
            return null;
        }
        return dir.resolve("jnic-test-" + ProcessHandle.current().pid() + "-" + tag + "-" + System.nanoTime());
    }

    public MemorySegment segment() {
        return mapping;
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        Mman.munmap(mapping);
        if (owner) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
