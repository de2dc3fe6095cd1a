package io.jnic.pci.vfiouser;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A flyweight over one reusable message buffer: the 16-byte header ("Header" section: message id,
 * command, message size, flags, error) and the payload behind it. Payload reads are checked against the
 * message size the peer claimed (which the channel checked against what arrived), writes against the
 * size being built, so no offset read from the wire can reach past the message. Not thread-safe.
 */
public final class VfioUserMessage {
    public static final int HEADER_SIZE = 16;
    public static final long MSG_ID = 0;
    public static final long COMMAND = 2;
    public static final long MESSAGE_SIZE = 4;
    public static final long FLAGS = 8;
    public static final long ERROR = 12;

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment buffer;
    private int size;

    /** A message over {@code buffer}, whose size bounds every message it can hold. */
    public VfioUserMessage(MemorySegment buffer) {
        if (buffer.byteSize() < HEADER_SIZE || buffer.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("message buffer of " + buffer.byteSize() + " bytes (need 16 to 2^31-1)");
        }
        this.buffer = buffer;
    }

    public MemorySegment buffer() {
        return buffer;
    }

    public int capacity() {
        return (int) buffer.byteSize();
    }

    /** Largest payload the buffer can carry. */
    public int payloadCapacity() {
        return capacity() - HEADER_SIZE;
    }

    /** Starts a message: header filled in, payload of {@code payloadLength} zeroed. */
    public VfioUserMessage begin(int msgId, int command, int flags, int payloadLength) {
        if (payloadLength < 0 || payloadLength > payloadCapacity()) {
            throw new VfioUserException(command, "payload of " + payloadLength + " bytes exceeds the message buffer ("
                    + payloadCapacity() + " bytes)");
        }
        size = HEADER_SIZE + payloadLength;
        buffer.asSlice(0, size).fill((byte) 0);
        buffer.set(U16, MSG_ID, (short) msgId);
        buffer.set(U16, COMMAND, (short) command);
        buffer.set(U32, MESSAGE_SIZE, size);
        buffer.set(U32, FLAGS, flags);
        return this;
    }

    /** An error reply: header only, as the spec requires, with the Error flag and {@code errno}. */
    public VfioUserMessage beginError(int msgId, int command, int errno) {
        begin(msgId, command, VfioUser.FLAG_TYPE_REPLY | VfioUser.FLAG_ERROR, 0);
        buffer.set(U32, ERROR, errno);
        return this;
    }

    /** Called by the channel once a header and {@code received} bytes in total have arrived. */
    void received(int received) {
        this.size = received;
    }

    /** Total bytes of the message (header included): as built, or as received. */
    public int size() {
        return size;
    }

    public int payloadLength() {
        return size - HEADER_SIZE;
    }

    public int msgId() {
        return Short.toUnsignedInt(buffer.get(U16, MSG_ID));
    }

    public int command() {
        return Short.toUnsignedInt(buffer.get(U16, COMMAND));
    }

    /** The header's message size field (the channel has checked it against what arrived). */
    public int declaredSize() {
        return buffer.get(U32, MESSAGE_SIZE);
    }

    public int flags() {
        return buffer.get(U32, FLAGS);
    }

    public int error() {
        return buffer.get(U32, ERROR);
    }

    public boolean isReply() {
        return (flags() & VfioUser.FLAG_TYPE_MASK) == VfioUser.FLAG_TYPE_REPLY;
    }

    public boolean isCommand() {
        return (flags() & VfioUser.FLAG_TYPE_MASK) == VfioUser.FLAG_TYPE_COMMAND;
    }

    public boolean noReply() {
        return (flags() & VfioUser.FLAG_NO_REPLY) != 0;
    }

    public boolean isError() {
        return (flags() & VfioUser.FLAG_ERROR) != 0;
    }

    /** Throws naming the command unless the payload has at least {@code minimum} bytes. */
    public VfioUserMessage requirePayload(long minimum, String what) {
        if (payloadLength() < minimum) {
            throw new VfioUserException(command(), what + " payload of " + payloadLength() + " bytes is shorter than "
                    + minimum);
        }
        return this;
    }

    public int u16(long offset) {
        return Short.toUnsignedInt(buffer.get(U16, at(offset, 2)));
    }

    public int u32(long offset) {
        return buffer.get(U32, at(offset, 4));
    }

    public long u64(long offset) {
        return buffer.get(U64, at(offset, 8));
    }

    public void putU16(long offset, int value) {
        buffer.set(U16, at(offset, 2), (short) value);
    }

    public void putU32(long offset, int value) {
        buffer.set(U32, at(offset, 4), value);
    }

    public void putU64(long offset, long value) {
        buffer.set(U64, at(offset, 8), value);
    }

    /** A view of payload bytes {@code [offset, offset + length)}, checked against the message size. */
    public MemorySegment payload(long offset, long length) {
        return buffer.asSlice(at(offset, length), length);
    }

    private long at(long offset, long width) {
        if (offset < 0 || width < 0 || offset > payloadLength() - width) {
            throw new VfioUserException(command(), "access to payload bytes [" + offset + ", " + (offset + width)
                    + ") outside the " + payloadLength() + "-byte payload");
        }
        return HEADER_SIZE + offset;
    }
}
