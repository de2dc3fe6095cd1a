package io.jnic.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.sys.Io;
import io.jnic.sys.Mman;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second, raw mapping of a live group's header plays the vandal: each test damages one field, checks that
 * the next reader gets a clear exception, restores the field and checks that nothing else was harmed.
 */
class CorruptionTest {
    @TempDir
    Path runtimeDir;
    MemoryConfig cfg;
    MemoryGroup group;
    MemorySegment raw;
    int rawFd;

    @BeforeEach
    void setUp() {
        cfg = TestSupport.small(runtimeDir).build();
        group = MemoryGroup.create(cfg);
        group.reserve("zone", 256).memory().set(ValueLayout.JAVA_LONG, 0, 0xFEEDL);
        rawFd = Io.open(cfg.headerPath().toString(), Io.O_RDWR);
        raw = Mman.mmap(MemoryGroup.fdSize(rawFd), Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, rawFd, 0);
    }

    @AfterEach
    void tearDown() {
        Mman.munmap(raw);
        Io.close(rawFd);
        group.close();
    }

    /** The group still works: attach, look up, reserve. */
    private void assertIntact() {
        try (MemoryGroup g = MemoryGroup.attach(cfg)) {
            assertEquals(0xFEEDL, g.lookup("zone").memory().get(ValueLayout.JAVA_LONG, 0));
            g.reserve("after-" + System.nanoTime(), 64);
        }
    }

    private MemoryException attachFails(MemoryException.Reason reason) {
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.attach(cfg));
        assertEquals(reason, e.reason(), e.getMessage());
        return e;
    }

    @Test
    void anotherMagic() {
        long magic = raw.get(ValueLayout.JAVA_LONG, GroupLayout.H_MAGIC);
        raw.set(ValueLayout.JAVA_LONG, GroupLayout.H_MAGIC, 0x5244505a4d454d31L);
        MemoryException e = attachFails(MemoryException.Reason.INCOMPATIBLE);
        assertEquals(cfg.headerPath() + " is not a jnic memory group header: magic 0x5244505a4d454d31, expected"
                + " 0x314d454d43494e4a (\"JNICMEM1\")", e.getMessage());
        raw.set(ValueLayout.JAVA_LONG, GroupLayout.H_MAGIC, magic);
        assertIntact();
    }

    @Test
    void anotherLayoutVersion() {
        raw.set(ValueLayout.JAVA_INT, GroupLayout.H_VERSION, 2);
        MemoryException e = attachFails(MemoryException.Reason.INCOMPATIBLE);
        assertEquals(cfg.headerPath() + " has layout version 2, this build of jnic reads version 1: run the same"
                + " jnic version in every process of the group", e.getMessage());
        raw.set(ValueLayout.JAVA_INT, GroupLayout.H_VERSION, 1);
        assertIntact();
    }

    @Test
    void memzoneReferringToASegmentOutOfRange() {
        long at = GroupLayout.memzoneTableOffset(cfg.maxSegments()) + GroupLayout.Z_SEGMENT;
        raw.set(ValueLayout.JAVA_INT, at, 999);
        MemoryException e = assertThrows(MemoryException.class, () -> group.lookup("zone"));
        assertEquals(MemoryException.Reason.CORRUPTED, e.reason());
        assertEquals("memzone 'zone' (entry 0 of 1) refers to segment 999, but group '" + cfg.filePrefix() + "' has 1"
                + " segment(s) (ids 0..0): the shared table is corrupted (nothing was changed; restart the group)",
                e.getMessage());
        assertThrows(MemoryException.class, () -> group.memzones());
        raw.set(ValueLayout.JAVA_INT, at, 0);
        assertIntact();
    }

    @Test
    void memzoneReachingPastItsSegment() {
        long at = GroupLayout.memzoneTableOffset(cfg.maxSegments()) + GroupLayout.Z_LENGTH;
        raw.set(ValueLayout.JAVA_LONG, at, Long.MAX_VALUE);
        MemoryException e = assertThrows(MemoryException.class, () -> group.lookup("zone"));
        assertTrue(e.getMessage().startsWith("memzone 'zone' (entry 0) claims offset 0, length " + Long.MAX_VALUE),
                e.getMessage());
        raw.set(ValueLayout.JAVA_LONG, at, 256);
        assertIntact();
    }

    @Test
    void segmentCountBeyondTheTable() {
        raw.set(ValueLayout.JAVA_INT, GroupLayout.H_SEGMENT_COUNT, 5000);
        MemoryException e = attachFails(MemoryException.Reason.CORRUPTED);
        assertTrue(e.getMessage().startsWith("group '" + cfg.filePrefix() + "': segment count 5000 is outside 0..64"),
                e.getMessage());
        assertThrows(MemoryException.class, () -> group.reserve("nope", 64));
        raw.set(ValueLayout.JAVA_INT, GroupLayout.H_SEGMENT_COUNT, 1);
        assertIntact();
    }

    @Test
    void segmentFileNameThatEscapesTheDirectory() {
        long at = GroupLayout.segmentTableOffset() + GroupLayout.S_NAME;
        byte[] saved = raw.asSlice(at, GroupLayout.SEGMENT_NAME_BYTES).toArray(ValueLayout.JAVA_BYTE);
        byte[] evil = "../../../etc/passwd\0".getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(evil, 0, raw, ValueLayout.JAVA_BYTE, at, evil.length);
        MemoryException e = attachFails(MemoryException.Reason.CORRUPTED);
        assertTrue(e.getMessage().startsWith("segment table entry 0 of group '" + cfg.filePrefix() + "' names file"
                + " '../../../etc/passwd' instead of '" + cfg.filePrefix() + "map_0'"), e.getMessage());
        MemorySegment.copy(saved, 0, raw, ValueLayout.JAVA_BYTE, at, saved.length);
        assertIntact();
    }

    @Test
    void segmentSizeNotAMultipleOfThePageSize() {
        long at = GroupLayout.segmentTableOffset() + GroupLayout.S_SIZE;
        long size = raw.get(ValueLayout.JAVA_LONG, at);
        raw.set(ValueLayout.JAVA_LONG, at, size + 1);
        MemoryException e = attachFails(MemoryException.Reason.CORRUPTED);
        assertTrue(e.getMessage().contains("has size " + (size + 1) + ", not a positive multiple of 4096"),
                e.getMessage());
        raw.set(ValueLayout.JAVA_LONG, at, size);
        assertIntact();
    }

    @Test
    void segmentFileShorterThanTheTableSaysIsNotMapped() throws Exception {
        // a bigger claim than the file holds: mapping it would SIGBUS on the missing part
        long at = GroupLayout.segmentTableOffset() + GroupLayout.S_SIZE;
        long size = raw.get(ValueLayout.JAVA_LONG, at);
        raw.set(ValueLayout.JAVA_LONG, at, size * 2);
        MemoryException e = attachFails(MemoryException.Reason.CORRUPTED);
        assertTrue(e.getMessage().contains("is " + size + " bytes but the table says " + size * 2), e.getMessage());
        assertTrue(e.getMessage().contains("SIGBUS"), e.getMessage());
        raw.set(ValueLayout.JAVA_LONG, at, size);
        assertIntact();
    }

    @Test
    void corruptedStringWithoutTerminator() {
        long at = GroupLayout.memzoneTableOffset(cfg.maxSegments()) + GroupLayout.Z_NAME;
        byte[] saved = raw.asSlice(at, 32).toArray(ValueLayout.JAVA_BYTE);
        raw.asSlice(at, 32).fill((byte) 'A');
        MemoryException e = assertThrows(MemoryException.class, () -> group.memzones());
        assertTrue(e.getMessage().startsWith("memzone entry 0 name is not NUL-terminated within 32 bytes"),
                e.getMessage());
        MemorySegment.copy(saved, 0, raw, ValueLayout.JAVA_BYTE, at, saved.length);
        assertIntact();
    }

    @Test
    void emptyHeaderOfAHalfCreatedGroup() throws Exception {
        MemoryConfig other = TestSupport.small(runtimeDir).build();
        Files.write(other.headerPath(), new byte[0]);
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.attach(other));
        assertEquals(MemoryException.Reason.GROUP_MISSING, e.reason());
        assertTrue(e.getMessage().contains("has an empty header: its creator has not finished creating it, or died"),
                e.getMessage());
        Files.write(other.headerPath(), new byte[(int) GroupLayout.headerSize(64, 2560)]);
        e = assertThrows(MemoryException.class, () -> MemoryGroup.attach(other));
        assertTrue(e.getMessage().endsWith("is not initialised yet: its creator has not finished creating the group,"
                + " or died doing so (start the primary again)"), e.getMessage());
    }

    @Test
    void aHeaderOfAnotherGroupIsRefused() throws Exception {
        MemoryConfig other = TestSupport.small(runtimeDir).build();
        Files.copy(cfg.headerPath(), other.headerPath());
        MemoryException e = assertThrows(MemoryException.class, () -> MemoryGroup.attach(other));
        assertEquals(MemoryException.Reason.INCOMPATIBLE, e.reason());
        assertTrue(e.getMessage().endsWith("belongs to group '" + cfg.filePrefix() + "', not '" + other.filePrefix()
                + "'"), e.getMessage());
    }
}
