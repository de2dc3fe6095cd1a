package io.jnic.devsim.ixgbe;

import static io.jnic.devsim.ixgbe.IxgbeRegs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checksum and TSO model on its own, for what the driver tests (IPv4 through the whole stack) do not reach:
 * IPv6, fragments, a UDP checksum of 0, TSO with a tag and over IPv6, contexts that do not fit the packet.
 * Checksums are verified here with this test's own arithmetic.
 */
class OffloadModelTest {
    private static final int ETH = 14;

    static int sum(byte[] f, int off, int len, long acc) {
        long s = acc;
        for (int i = 0; i < len; i += 2) {
            s += (f[off + i] & 0xFF) << 8 | (i + 1 < len ? f[off + i + 1] & 0xFF : 0);
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    static int u16(byte[] f, int at) {
        return (f[at] & 0xFF) << 8 | f[at + 1] & 0xFF;
    }

    /** IPv6 + TCP with {@code payload} bytes and a right checksum. */
    static byte[] ipv6Tcp(int payload, int seq, int flags) {
        byte[] f = new byte[ETH + 40 + 20 + payload];
        ByteBuffer b = ByteBuffer.wrap(f);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x86DD);
        b.putInt(0x60000000).putShort((short) (20 + payload)).put((byte) 6).put((byte) 64);
        for (int i = 0; i < 32; i++) {
            b.put((byte) (i * 13 + 1));
        }
        b.putShort((short) 1234).putShort((short) 80).putInt(seq).putInt(0).put((byte) 0x50).put((byte) flags)
                .putShort((short) 1000).putInt(0);
        for (int i = 0; i < payload; i++) {
            f[ETH + 60 + i] = (byte) (i * 3 + 5);
        }
        long pseudo = sum(f, ETH + 8, 32, 0) + 6 + 20 + payload;
        int c = ~sum(f, ETH + 40, 20 + payload, pseudo) & 0xFFFF;
        f[ETH + 40 + 16] = (byte) (c >>> 8);
        f[ETH + 40 + 17] = (byte) c;
        return f;
    }

    private static int status(byte[] f) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(f.length);
            MemorySegment.copy(f, 0, s, ValueLayout.JAVA_BYTE, 0, f.length);
            return ChecksumModel.rxStatus(s, 0, f.length);
        }
    }

    @Test
    void ipv6TcpIsCheckedWithoutAnIpVerdict() {
        byte[] f = ipv6Tcp(101, 7, 0x18);
        assertEquals(RXD_STAT_L4CS, status(f));
        f[ETH + 60 + 50] ^= 1;
        assertEquals(RXD_STAT_L4CS | RXD_ERR_TCPE, status(f));
        byte[] notIp = new byte[60];
        notIp[12] = (byte) 0x88;
        notIp[13] = (byte) 0xB5;
        assertEquals(0, status(notIp));
    }

    @Test
    void aFragmentHasAnIpVerdictOnlyAndAZeroUdpChecksumNone() {
        byte[] f = new byte[ETH + 28 + 10];
        ByteBuffer b = ByteBuffer.wrap(f);
        b.position(12);
        b.putShort((short) 0x0800).put((byte) 0x45).put((byte) 0).putShort((short) 38).putShort((short) 1)
                .putShort((short) 0x2000 /* MF */).put((byte) 64).put((byte) 17).putShort((short) 0).putInt(0x0a000001)
                .putInt(0x0a000002).putShort((short) 1).putShort((short) 2).putShort((short) 18).putShort((short) 0);
        int c = ~sum(f, ETH, 20, 0) & 0xFFFF;
        f[ETH + 10] = (byte) (c >>> 8);
        f[ETH + 11] = (byte) c;
        assertEquals(RXD_STAT_IPCS, status(f), "fragment: no L4 verdict");
        f[ETH + 6] = 0; // no longer a fragment; its UDP checksum is 0 (none sent)
        c = ~sum(withZeroIpCsum(f), ETH, 20, 0) & 0xFFFF;
        f[ETH + 10] = (byte) (c >>> 8);
        f[ETH + 11] = (byte) c;
        assertEquals(RXD_STAT_IPCS, status(f), "UDP checksum 0: no L4 verdict");
    }

    private static byte[] withZeroIpCsum(byte[] f) {
        f[ETH + 10] = 0;
        f[ETH + 11] = 0;
        return f;
    }

    /** TSO over IPv6 with a tag inserted: every segment tagged, its payload length and checksum its own. */
    @Test
    void tsoOverIpv6WithATagCutsTaggedSegments() {
        int payload = 5000;
        int mss = 1200;
        byte[] pkt = ipv6Tcp(payload, 1000, 0x19);
        // what a driver leaves in the L4 field under TSO: the pseudo header's sum without the length
        int pseudo = sum(pkt, ETH + 8, 32, 0) + 6;
        pseudo = (pseudo & 0xFFFF) + (pseudo >>> 16);
        pkt[ETH + 56] = (byte) (pseudo >>> 8);
        pkt[ETH + 57] = (byte) pseudo;
        List<byte[]> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(pkt.length);
            MemorySegment.copy(pkt, 0, buf, ValueLayout.JAVA_BYTE, 0, pkt.length);
            TsoSegmenter t = new TsoSegmenter(a.allocate(16 * 1024 + 4), 16 * 1024);
            int lens = 40 | 14 << TXCTX_MACLEN_SHIFT | 0x0ABC << TXCTX_VLAN_SHIFT;
            int tucmd = TXCTX_TUCMD_L4T_TCP;
            int mssL4 = 20 << TXCTX_L4LEN_SHIFT | mss << TXCTX_MSS_SHIFT;
            String why = t.apply(buf, pkt.length, TXD_CMD_TSE | TXD_CMD_VLE, TXD_POPTS_TXSM, lens, tucmd, mssL4, payload,
                    (f, o, l) -> {
                        byte[] c = new byte[l];
                        MemorySegment.copy(f, ValueLayout.JAVA_BYTE, o, c, 0, l);
                        out.add(c);
                    });
            assertNull(why);
            // PAYLEN that disagrees with the packet: dropped, with the reason
            assertNotNull(t.apply(buf, pkt.length, TXD_CMD_TSE, TXD_POPTS_TXSM, lens, tucmd, mssL4, payload - 1, (f, o, l) -> { }));
            // a context whose headers do not fit the packet
            assertNotNull(t.apply(buf, 40, 0, TXD_POPTS_TXSM, lens, tucmd, 0, 0, (f, o, l) -> { }));
        }
        assertEquals(5, out.size());
        for (int i = 0; i < out.size(); i++) {
            byte[] g = out.get(i);
            int chunk = Math.min(mss, payload - i * mss);
            assertEquals(4 + ETH + 60 + chunk, g.length);
            assertEquals(0x8100, u16(g, 12));
            assertEquals(0x0ABC, u16(g, 14));
            int ip = ETH + 4;
            assertEquals(20 + chunk, u16(g, ip + 4), "IPv6 payload length of segment " + i);
            assertEquals(1000 + i * mss, ByteBuffer.wrap(g, ip + 44, 4).getInt());
            assertEquals(i == 4 ? 0x19 : 0x10, g[ip + 53] & 0xFF);
            long ps = sum(g, ip + 8, 32, 0) + 6 + 20 + chunk;
            assertEquals(0xFFFF, sum(g, ip + 40, 20 + chunk, ps), "TCP checksum of segment " + i);
            for (int k = 0; k < chunk; k++) {
                assertTrue(g[ip + 60 + k] == pkt[ETH + 60 + i * mss + k], "payload " + i + "/" + k);
            }
        }
    }
}
