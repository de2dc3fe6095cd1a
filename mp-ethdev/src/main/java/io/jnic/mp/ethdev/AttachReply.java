package io.jnic.mp.ethdev;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The primary's answer to {@value SharedPorts#ACTION_ATTACH}: what a secondary needs, beside the group's shared
 * memory, to drive one queue pair, whatever carries the device. The descriptors travel beside the bytes
 * (SCM_RIGHTS); the bytes say how many there must be and what they are.
 *
 * <pre>
 * little-endian
 *  0 status u32 (0 ok, 1 refused: UTF-8 reason from byte 8 on)   4 version u16 (3)   6 kind u16
 *  8 bar i32 (-1: no BAR)            12 area count u32
 * 16 BAR size u64                    24 offset of the BAR's region in the descriptor u64
 * 32 descriptor count u32            36 reserved u32
 * 40 areas {offset u64, size u64}[area count]: the parts of the BAR to mmap, relative to the BAR
 * </pre>
 *
 * Kinds and their descriptors:
 * <ul>
 * <li>{@link Kind#BAR}: fd 0 is the descriptor the device's transport hands over for the BAR
 * ({@link io.jnic.pci.PciDevice#handOverBar}: a vfio-user region fd, a VFIO device fd, which keeps the container's
 * IOMMU mappings valid while held, or a UIO sysfs {@code resourceN} the primary opened); the areas map from it at
 * region offset + area offset.</li>
 * <li>{@link Kind#EVENTFDS}: no BAR; the descriptors are the device's eventfds for the queue pair, in the order
 * the driver defines (virtio-user: RX kick, TX kick, RX call, TX call).</li>
 * </ul>
 */
record AttachReply(Kind kind, int bar, long barSize, long regionOffset, long[][] areas, int fdCount) {
    static final int STATUS_OK = 0;
    static final int STATUS_REFUSED = 1;
    static final int VERSION = 3;
    static final int HEADER = 40;
    static final int AREA = 16;
    /** Areas one message carries. */
    static final int MAX_AREAS = (io.jnic.multiproc.ipc.IpcMessage.MAX_PARAM_LEN - HEADER) / AREA;

    enum Kind {
        BAR(1, "BAR"), EVENTFDS(4, "eventfds");

        final int code;
        final String label;

        Kind(int code, String label) {
            this.code = code;
            this.label = label;
        }

        static Kind of(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    /** The reply for a BAR hand-over: one descriptor. */
    static AttachReply of(io.jnic.pci.BarHandover h) {
        return new AttachReply(Kind.BAR, h.bar(), h.barSize(), h.regionOffset(), h.areas(), 1);
    }

    /** The bytes of this reply (status OK); the sender attaches {@link #fdCount} descriptors. */
    byte[] encode() {
        if (areas.length > MAX_AREAS) {
            throw new IllegalArgumentException(areas.length + " mappable areas, more than one message carries (" + MAX_AREAS
                    + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER + AREA * areas.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(STATUS_OK).putShort((short) VERSION).putShort((short) kind.code).putInt(bar).putInt(areas.length)
                .putLong(barSize).putLong(regionOffset).putInt(fdCount).putInt(0);
        for (long[] a : areas) {
            b.putLong(a[0]).putLong(a[1]);
        }
        return b.array();
    }

    /** A refusal carrying {@code why} (cut to what a message holds). */
    static byte[] refusal(String why) {
        byte[] t = why.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(Math.min(io.jnic.multiproc.ipc.IpcMessage.MAX_PARAM_LEN, 8 + t.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(STATUS_REFUSED).putInt(0).put(t, 0, b.remaining());
        return b.array();
    }

    /**
     * Decodes a reply that came with {@code fdsReceived} descriptors: every field is checked before use (a
     * malformed reply is an {@link IllegalStateException} naming the field); a refusal throws with the primary's
     * reason.
     *
     * @param what for messages ("queue 1 of port 0")
     */
    static AttachReply decode(ByteBuffer in, int fdsReceived, String what) {
        ByteBuffer b = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 8) {
            throw malformed(what, "the primary answered with " + b.remaining() + " bytes, fewer than a status");
        }
        int status = b.getInt();
        if (status == STATUS_REFUSED) {
            b.getInt();
            byte[] why = new byte[b.remaining()];
            b.get(why);
            throw new IllegalStateException("the primary refused the attach of " + what + ": "
                    + new String(why, StandardCharsets.UTF_8));
        }
        if (status != STATUS_OK) {
            throw malformed(what, "status " + status + " is neither 0 (ok) nor 1 (refused)");
        }
        int version = Short.toUnsignedInt(b.getShort());
        int kindCode = Short.toUnsignedInt(b.getShort());
        if (version != VERSION) {
            throw malformed(what, "reply version " + version + ", this build reads version " + VERSION
                    + ": run the same jnic build in every process");
        }
        Kind kind = Kind.of(kindCode);
        if (kind == null) {
            throw malformed(what, "unknown hand-over kind " + kindCode);
        }
        if (b.remaining() < HEADER - 8) {
            throw malformed(what, "a " + (b.remaining() + 8) + "-byte reply is shorter than the " + HEADER + "-byte header");
        }
        int bar = b.getInt();
        long n = Integer.toUnsignedLong(b.getInt());
        long barSize = b.getLong();
        long regionOffset = b.getLong();
        long fdCount = Integer.toUnsignedLong(b.getInt());
        b.getInt();
        if (fdCount != fdsReceived) {
            throw malformed(what, "it announces " + fdCount + " descriptors but " + fdsReceived + " arrived");
        }
        if (n * AREA != b.remaining()) {
            throw malformed(what, n + " areas announced, " + b.remaining() + " bytes of areas present");
        }
        long[][] areas = new long[(int) n][];
        if (kind == Kind.EVENTFDS) {
            if (bar != -1 || n != 0 || barSize != 0 || regionOffset != 0) {
                throw malformed(what, "an eventfd hand-over names BAR " + bar + " with " + n + " areas");
            }
            if (fdCount < 1 || fdCount > io.jnic.multiproc.ipc.IpcMessage.MAX_FDS) {
                throw malformed(what, fdCount + " eventfds");
            }
            return new AttachReply(kind, bar, 0, 0, areas, (int) fdCount);
        }
        if (bar < 0 || bar > 5) {
            throw malformed(what, "BAR index " + bar + " outside 0..5");
        }
        if (barSize <= 0 || Long.bitCount(barSize) != 1) {
            throw malformed(what, "BAR size " + barSize + " is not a power of two");
        }
        if (regionOffset < 0 || (regionOffset & 4095) != 0) {
            throw malformed(what, "region offset " + regionOffset + " is not a page-aligned file offset");
        }
        if (n < 1) {
            throw malformed(what, "no mappable area of BAR " + bar);
        }
        if (fdCount != 1) {
            throw malformed(what, fdCount + " descriptors for a BAR hand-over, which needs exactly 1");
        }
        for (int i = 0; i < n; i++) {
            long off = b.getLong();
            long size = b.getLong();
            if (off < 0 || size <= 0 || off > barSize - size || (off & 4095) != 0) {
                throw malformed(what, "area " + i + " [" + off + ", +" + size + ") is not a page-aligned part of the "
                        + barSize + "-byte BAR " + bar);
            }
            if (regionOffset + off < 0) {
                throw malformed(what, "area " + i + " overflows the file offset");
            }
            areas[i] = new long[] {off, size};
        }
        return new AttachReply(kind, bar, barSize, regionOffset, areas, 1);
    }

    private static IllegalStateException malformed(String what, String detail) {
        return new IllegalStateException("malformed attach reply for " + what + ": " + detail);
    }
}
