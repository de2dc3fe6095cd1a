package io.jnic.multiproc.ipc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The datagram layout (version 1), documented field by field in the package description. */
final class Wire {
    static final int MAGIC = 0x504D_4E4A; // "JNMP" in memory order: 'J' 'N' 'M' 'P'
    static final byte VERSION = 1;

    static final byte TYPE_MSG = 1;
    static final byte TYPE_REQ = 2;
    static final byte TYPE_REP = 3;
    static final byte TYPE_IGN = 4;

    static final long OFF_MAGIC = 0;
    static final long OFF_VERSION = 4;
    static final long OFF_TYPE = 5;
    static final long OFF_NAME_LEN = 6;
    static final long OFF_NUM_FDS = 7;
    static final long OFF_REQUEST_ID = 8;
    static final long OFF_PARAM_LEN = 16;
    static final long OFF_RESERVED = 18;
    static final long OFF_NAME = 20;
    static final long OFF_PARAM = OFF_NAME + IpcMessage.MAX_NAME_LEN;
    static final int HEADER_SIZE = (int) OFF_PARAM;
    static final int MAX_SIZE = HEADER_SIZE + IpcMessage.MAX_PARAM_LEN;

    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private Wire() {
    }

    /** Writes a message into {@code d}; returns its length in bytes. */
    static int encode(MemorySegment d, byte type, long requestId, IpcMessage m) {
        String name = m.name();
        byte[] param = m.rawParam();
        d.set(LE_INT, OFF_MAGIC, MAGIC);
        d.set(BYTE, OFF_VERSION, VERSION);
        d.set(BYTE, OFF_TYPE, type);
        d.set(BYTE, OFF_NAME_LEN, (byte) name.length());
        d.set(BYTE, OFF_NUM_FDS, (byte) m.fdCount());
        d.set(LE_LONG, OFF_REQUEST_ID, requestId);
        d.set(LE_SHORT, OFF_PARAM_LEN, (short) param.length);
        d.set(LE_SHORT, OFF_RESERVED, (short) 0);
        d.asSlice(OFF_NAME, IpcMessage.MAX_NAME_LEN).fill((byte) 0);
        for (int i = 0; i < name.length(); i++) {
            d.set(BYTE, OFF_NAME + i, (byte) name.charAt(i)); // checked printable ASCII
        }
        MemorySegment.copy(param, 0, d, BYTE, OFF_PARAM, param.length);
        return HEADER_SIZE + param.length;
    }

    /**
     * The header of a received datagram, checked against every rule of the layout: {@code cause} is null for a
     * well-formed datagram, else the counter it is dropped under ({@link Counter#TRUNCATED} or
     * {@link Counter#MALFORMED}) with {@code why}. Pure: no allocation beyond the result, no side effects, so
     * it can be fuzzed on its own.
     */
    record Header(Counter cause, String why, int type, int nameLength, int fdCount, long requestId, int paramLength) {
        static Header bad(Counter cause, String why) {
            return new Header(cause, why, 0, 0, 0, 0, 0);
        }

        boolean ok() {
            return cause == null;
        }
    }

    /**
     * Decodes the header of the {@code length}-byte datagram in {@code d} that came with {@code fdsReceived}
     * descriptors ({@code truncated}: the kernel cut data or descriptors off).
     */
    static Header decode(MemorySegment d, long length, int fdsReceived, boolean truncated) {
        if (truncated || length > MAX_SIZE || fdsReceived > IpcMessage.MAX_FDS) {
            return Header.bad(Counter.TRUNCATED, "longer than " + MAX_SIZE + " bytes or more than " + IpcMessage.MAX_FDS
                    + " fds");
        }
        if (length < HEADER_SIZE || d.byteSize() < length) {
            return Header.bad(Counter.MALFORMED, length + " bytes, shorter than the " + HEADER_SIZE + "-byte header");
        }
        int magic = d.get(LE_INT, OFF_MAGIC);
        int version = d.get(BYTE, OFF_VERSION);
        int type = d.get(BYTE, OFF_TYPE);
        int nameLen = d.get(BYTE, OFF_NAME_LEN) & 0xff;
        int numFds = d.get(BYTE, OFF_NUM_FDS) & 0xff;
        long requestId = d.get(LE_LONG, OFF_REQUEST_ID);
        int paramLen = d.get(LE_SHORT, OFF_PARAM_LEN) & 0xffff;
        int reserved = d.get(LE_SHORT, OFF_RESERVED);
        String bad = null;
        if (magic != MAGIC) {
            bad = "bad magic 0x" + Integer.toHexString(magic);
        } else if (version != VERSION) {
            bad = "wire version " + version + ", this build speaks " + VERSION;
        } else if (type < TYPE_MSG || type > TYPE_IGN) {
            bad = "unknown type " + type;
        } else if (nameLen < 1 || nameLen > IpcMessage.MAX_NAME_LEN) {
            bad = "name length " + nameLen;
        } else if (numFds > IpcMessage.MAX_FDS || numFds != fdsReceived) {
            bad = "header says " + numFds + " fds, " + fdsReceived + " came";
        } else if (paramLen > IpcMessage.MAX_PARAM_LEN || length != HEADER_SIZE + paramLen) {
            bad = "param length " + paramLen + " in a datagram of " + length + " bytes";
        } else if (reserved != 0) {
            bad = "reserved field " + reserved;
        } else if ((type == TYPE_MSG) != (requestId == 0)) {
            bad = typeName(type) + " with request id " + requestId;
        } else if (!nameValid(d, nameLen)) {
            bad = "action name is not printable ASCII padded with zeros";
        }
        if (bad != null) {
            return Header.bad(Counter.MALFORMED, bad);
        }
        return new Header(null, null, type, nameLen, numFds, requestId, paramLen);
    }

    private static boolean nameValid(MemorySegment d, int nameLen) {
        for (int i = 0; i < IpcMessage.MAX_NAME_LEN; i++) {
            int c = d.get(BYTE, OFF_NAME + i);
            if (i < nameLen ? (c <= 0x20 || c >= 0x7f) : c != 0) {
                return false;
            }
        }
        return true;
    }

    /** The action name of a datagram {@link #decode} accepted. */
    static String name(MemorySegment d, int nameLen) {
        char[] name = new char[nameLen];
        for (int i = 0; i < nameLen; i++) {
            name[i] = (char) d.get(BYTE, OFF_NAME + i);
        }
        return new String(name);
    }

    static String typeName(int type) {
        return switch (type) {
            case TYPE_MSG -> "MSG";
            case TYPE_REQ -> "REQ";
            case TYPE_REP -> "REP";
            case TYPE_IGN -> "IGN";
            default -> "type " + type;
        };
    }
}
