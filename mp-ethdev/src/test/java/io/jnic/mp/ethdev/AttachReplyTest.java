package io.jnic.mp.ethdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnic.pci.uio.UioPciDevice;
import io.jnic.pci.vfio.Vfio;
import io.jnic.pci.vfio.VfioPciDevice;
import io.jnic.pci.vfio.VfioRegionInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The attach reply's encoding of each transport's BAR hand-over, and every malformed field a secondary must refuse. */
class AttachReplyTest {
    private static final String WHAT = "queue 1 of port 0";

    private static AttachReply roundTrip(AttachReply a) {
        return AttachReply.decode(ByteBuffer.wrap(a.encode()), a.fdCount(), WHAT);
    }

    @Test
    void vfioBarCarriesRegionOffsetAndSparseAreas() {
        // a BAR whose MSI-X table page VFIO keeps out of the mmap-able parts (sparse-mmap capability)
        int flags = Vfio.VFIO_REGION_INFO_FLAG_READ | Vfio.VFIO_REGION_INFO_FLAG_WRITE | Vfio.VFIO_REGION_INFO_FLAG_MMAP;
        VfioRegionInfo r = new VfioRegionInfo(0, flags, 0x80000, 0x0L, List.of(new VfioRegionInfo.SparseArea(0, 0x40000),
                new VfioRegionInfo.SparseArea(0x41000, 0x3f000)));
        AttachReply d = roundTrip(AttachReply.of(VfioPciDevice.handOver(0, r, -1)));
        assertEquals(AttachReply.Kind.BAR, d.kind());
        assertEquals(0x80000, d.barSize());
        assertEquals(2, d.areas().length);
        assertArrayEquals(new long[] {0x41000, 0x3f000}, d.areas()[1]);
        // BAR 4 of a device: VFIO places region i at i << 40 in the device fd
        VfioRegionInfo r4 = new VfioRegionInfo(4, flags, 0x4000, 4L << 40, List.of());
        AttachReply d4 = roundTrip(AttachReply.of(VfioPciDevice.handOver(4, r4, -1)));
        assertEquals(4L << 40, d4.regionOffset());
        assertEquals(4, d4.bar());
        assertArrayEquals(new long[] {0, 0x4000}, d4.areas()[0]);
    }

    @Test
    void vfioBarThatCannotBeMappedIsRefusedWithAReason() {
        VfioRegionInfo r = new VfioRegionInfo(2, Vfio.VFIO_REGION_INFO_FLAG_READ, 0x1000, 2L << 40, List.of());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> VfioPciDevice.handOver(2, r, -1));
        assertEquals("VFIO does not let BAR2 be mmapped (" + r + ")", e.getMessage());
    }

    @Test
    void uioBarIsAllOfTheResourceFile() {
        AttachReply d = roundTrip(AttachReply.of(UioPciDevice.handOver(0, 0x20000, -1)));
        assertEquals(AttachReply.Kind.BAR, d.kind());
        assertEquals(0, d.regionOffset());
        assertArrayEquals(new long[] {0, 0x20000}, d.areas()[0]);
        assertEquals(1, d.fdCount());
    }

    @Test
    void eventfdsNeedNoBar() {
        AttachReply d = roundTrip(new AttachReply(AttachReply.Kind.EVENTFDS, -1, 0, 0, new long[0][], 4));
        assertEquals(AttachReply.Kind.EVENTFDS, d.kind());
        assertEquals(4, d.fdCount());
    }

    @Test
    void refusalCarriesThePrimarysReason() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> AttachReply.decode(ByteBuffer.wrap(AttachReply.refusal("no such queue")), 0, WHAT));
        assertEquals("the primary refused the attach of queue 1 of port 0: no such queue", e.getMessage());
    }

    private static byte[] good() {
        return AttachReply.of(UioPciDevice.handOver(0, 0x20000, -1)).encode();
    }

    private static void assertMalformed(String detail, int fds, Consumer<ByteBuffer> corrupt) {
        ByteBuffer b = ByteBuffer.wrap(good()).order(ByteOrder.LITTLE_ENDIAN);
        corrupt.accept(b);
        b.clear();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AttachReply.decode(b, fds, WHAT));
        assertEquals("malformed attach reply for queue 1 of port 0: " + detail, e.getMessage());
    }

    @Test
    void everyFieldIsChecked() {
        assertMalformed("status 7 is neither 0 (ok) nor 1 (refused)", 1, b -> b.putInt(0, 7));
        assertMalformed("reply version 1, this build reads version 3: run the same jnic build in every process", 1,
                b -> b.putShort(4, (short) 1));
        assertMalformed("unknown hand-over kind 9", 1, b -> b.putShort(6, (short) 9));
        assertMalformed("BAR index 6 outside 0..5", 1, b -> b.putInt(8, 6));
        assertMalformed("BAR size 12288 is not a power of two", 1, b -> b.putLong(16, 12288));
        assertMalformed("region offset 100 is not a page-aligned file offset", 1, b -> b.putLong(24, 100));
        assertMalformed("it announces 1 descriptors but 0 arrived", 0, b -> { });
        assertMalformed("2 areas announced, 16 bytes of areas present", 1, b -> b.putInt(12, 2));
        assertMalformed("area 0 [0, +266240) is not a page-aligned part of the 131072-byte BAR 0", 1,
                b -> b.putLong(48, 0x41000));
        assertMalformed("area 0 [4096, +131072) is not a page-aligned part of the 131072-byte BAR 0", 1,
                b -> b.putLong(40, 4096));
        assertMalformed("area 0 [-4096, +131072) is not a page-aligned part of the 131072-byte BAR 0", 1,
                b -> b.putLong(40, -4096));
        assertMalformed("area 0 [512, +131072) is not a page-aligned part of the 131072-byte BAR 0", 1,
                b -> b.putLong(40, 512));
        assertMalformed("2 descriptors for a BAR hand-over, which needs exactly 1", 2, b -> b.putInt(32, 2));
        assertMalformed("an eventfd hand-over names BAR 0 with 1 areas", 1, b -> b.putShort(6, (short) 4));
    }

    @Test
    void truncatedRepliesAreRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> AttachReply.decode(ByteBuffer.wrap(new byte[6]), 0, WHAT));
        assertEquals("malformed attach reply for queue 1 of port 0: the primary answered with 6 bytes, fewer than a "
                + "status", e.getMessage());
        byte[] shortHeader = java.util.Arrays.copyOf(good(), 20);
        e = assertThrows(IllegalStateException.class, () -> AttachReply.decode(ByteBuffer.wrap(shortHeader), 1, WHAT));
        assertEquals("malformed attach reply for queue 1 of port 0: a 20-byte reply is shorter than the 40-byte header",
                e.getMessage());
    }

    @Test
    void tooManyAreasForOneMessageAreRefusedBySender() {
        long[][] areas = new long[AttachReply.MAX_AREAS + 1][];
        for (int i = 0; i < areas.length; i++) {
            areas[i] = new long[] {4096L * i, 4096};
        }
        AttachReply a = new AttachReply(AttachReply.Kind.BAR, 0, 1 << 20, 0, areas, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, a::encode);
        assertEquals((AttachReply.MAX_AREAS + 1) + " mappable areas, more than one message carries ("
                + AttachReply.MAX_AREAS + ")", e.getMessage());
    }
}
