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
