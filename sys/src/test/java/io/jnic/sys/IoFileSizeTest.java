package io.jnic.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IoFileSizeTest {
    @Test
    void fileSizeFollowsTruncateAndNamesBadDescriptors() {
        int fd = Mman.memfdCreate("size", Mman.MFD_CLOEXEC);
        try {
            assertEquals(0, Io.fileSize(fd));
            Io.ftruncate(fd, 12345);
            assertEquals(12345, Io.fileSize(fd));
        } finally {
            Io.close(fd);
        }
        SysException e = assertThrows(SysException.class, () -> Io.fileSize(fd));
        assertTrue(e.getMessage().startsWith("fstat(" + fd + ") failed: EBADF"), e.getMessage());
    }
}
