package io.jnic.memory;

/**
 * What a DMA segment's pages come from. Every kind is a file descriptor, so another process, a vfio-user
 * server or a vhost-user backend can map the same pages.
 */
public enum Backing {
    /**
     * A file named {@code <prefix>map_<id>}: under the huge dir (a hugetlbfs mount) for hugepages, under
     * the runtime dir for 4 KB pages. Other processes open it by name.
     */
    FILE(1),
    /**
     * memfd_create(2), with MFD_HUGETLB for hugepages. No name in the file system: other processes receive
     * the descriptor over a UNIX socket (SCM_RIGHTS).
     */
    MEMFD(2);

    private final int code;

    Backing(int code) {
        this.code = code;
    }

    int code() {
        return code;
    }

    static Backing ofCode(int code) {
        for (Backing b : values()) {
            if (b.code == code) {
                return b;
            }
        }
        throw new MemoryException(MemoryException.Reason.CORRUPTED,
                "backing kind " + code + " is none of FILE(1), MEMFD(2)");
    }
}
