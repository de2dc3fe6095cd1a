package io.jnic.apps.pdump;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes a pcapng file (the IETF draft "PCAP Next Generation Dump File Format", draft-ietf-opsawg-pcapng):
 * one Section Header Block, one Interface Description Block per port (interface id = port id; link type 1,
 * Ethernet; {@code if_tsresol} 9, timestamps in nanoseconds), then one Enhanced Packet Block per frame with its
 * direction ({@code epb_flags}) and queue ({@code epb_queue}). Little endian, every block padded to 32 bits.
 */
final class PcapngWriter implements AutoCloseable {
    static final int SHB = 0x0A0D0D0A;
    static final int IDB = 0x00000001;
    static final int EPB = 0x00000006;
    static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    static final int LINKTYPE_ETHERNET = 1;
    static final int OPT_END = 0;
    static final int OPT_COMMENT = 1;
    static final int SHB_USERAPPL = 4;
    static final int IF_NAME = 2;
    static final int IF_DESCRIPTION = 3;
    static final int IF_TSRESOL = 9;
    static final int EPB_FLAGS = 2;
    static final int EPB_QUEUE = 6;
    /** epb_flags bits 0-1: direction (01 inbound, 10 outbound). */
    static final int INBOUND = 1;
    static final int OUTBOUND = 2;

    private final OutputStream out;
    private final ByteBuffer b = ByteBuffer.allocate(128 * 1024).order(ByteOrder.LITTLE_ENDIAN);
    private long packets;

    PcapngWriter(OutputStream out, String application) throws IOException {
        this.out = out;
        int start = begin(SHB);
        b.putInt(BYTE_ORDER_MAGIC).putShort((short) 1).putShort((short) 0).putLong(-1L); // section length unknown
        option(SHB_USERAPPL, application.getBytes(StandardCharsets.UTF_8));
        b.putShort((short) OPT_END).putShort((short) 0);
        end(start);
    }

    /** The next interface (the first gets id 0, ...). */
    void interfaceBlock(String name, String description, int snapLength) throws IOException {
        int start = begin(IDB);
        b.putShort((short) LINKTYPE_ETHERNET).putShort((short) 0).putInt(snapLength);
        option(IF_NAME, name.getBytes(StandardCharsets.UTF_8));
        if (description != null && !description.isEmpty()) {
            option(IF_DESCRIPTION, description.getBytes(StandardCharsets.UTF_8));
        }
        option(IF_TSRESOL, new byte[] {9});
        b.putShort((short) OPT_END).putShort((short) 0);
        end(start);
    }

    /** One frame: {@code len} captured bytes of {@code data}, {@code origLen} on the wire, at {@code nanos} since 1970. */
    void packet(int iface, long nanos, byte[] data, int len, int origLen, boolean inbound, int queue) throws IOException {
        if (b.remaining() < 64 + len + 32) {
            flush();
        }
        int start = begin(EPB);
        b.putInt(iface).putInt((int) (nanos >>> 32)).putInt((int) nanos).putInt(len).putInt(origLen);
        b.put(data, 0, len);
        pad();
        b.putShort((short) EPB_FLAGS).putShort((short) 4).putInt(inbound ? INBOUND : OUTBOUND);
        b.putShort((short) EPB_QUEUE).putShort((short) 4).putInt(queue);
        b.putShort((short) OPT_END).putShort((short) 0);
        end(start);
        packets++;
    }

    long packets() {
        return packets;
    }

    private int begin(int type) {
        int start = b.position();
        b.putInt(type).putInt(0);
        return start;
    }

    private void end(int start) throws IOException {
        int total = b.position() - start + 4;
        b.putInt(total);
        b.putInt(start + 4, total);
        if (b.position() > b.capacity() / 2) {
            flush();
        }
    }

    private void option(int code, byte[] value) {
        b.putShort((short) code).putShort((short) value.length).put(value);
        pad();
    }

    private void pad() {
        while ((b.position() & 3) != 0) {
            b.put((byte) 0);
        }
    }

    void flush() throws IOException {
        out.write(b.array(), 0, b.position());
        b.clear();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        flush();
        out.close();
    }
}
