package io.jnic.devsim.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The RSS verification suite of datasheet section 7.1.2.8.3: every vector, with and without ports. */
class ToeplitzTest {
    static final byte[] KEY = HexFormat.of().parseHex(
            "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa");

    /** destination address:port, source address:port, hash of the addresses, hash with ports. */
    static final Object[][] IPV4 = {
        {"161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2, 0x51ccc178},
        {"65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a, 0xc626b0ea},
        {"12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de, 0x5c2b394a},
        {"209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xafc7327f},
        {"202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5, 0x10e828a2},
    };
    static final Object[][] IPV6 = {
        {"3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794, 0x2cc18cd5, 0x40207d3d},
        {"ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230, 0x0f0c461c, 0xdde51bbf},
        {"fe80::200:f8ff:fe21:67cf", 38024, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, 0x4b61e985, 0x02d1feef},
    };

    static byte[] addr(String s) throws Exception {
        return InetAddress.getByName(s).getAddress();
    }

    /** Input of 7.1.2.8.1: source address, destination address, then source port, destination port. */
    static byte[] input(Object[] v, boolean ports) throws Exception {
        byte[] dst = addr((String) v[0]);
        byte[] src = addr((String) v[2]);
        ByteBuffer b = ByteBuffer.allocate(src.length * 2 + (ports ? 4 : 0));
        b.put(src).put(dst);
        if (ports) {
            b.putShort((short) (int) (Integer) v[3]).putShort((short) (int) (Integer) v[1]);
        }
        return b.array();
    }

    @Test
    void everyVerificationVectorHashesAsTheDatasheetSays() throws Exception {
        Toeplitz t = new Toeplitz();
        t.setKey(KEY);
        for (Object[][] table : new Object[][][] {IPV4, IPV6}) {
            for (Object[] v : table) {
                assertEquals((int) (Integer) v[4], t.hash(input(v, false)), "addresses of " + v[0] + " <- " + v[2]);
                assertEquals((int) (Integer) v[5], t.hash(input(v, true)), "with ports, " + v[0] + " <- " + v[2]);
                assertEquals((int) (Integer) v[4], io.jnic.testsupport.Toeplitz.hash(KEY, input(v, false)));
                assertEquals((int) (Integer) v[5], io.jnic.testsupport.Toeplitz.hash(KEY, input(v, true)));
            }
        }
    }

    @Test
    void tableAgreesWithTheBitwiseDefinitionOnRandomKeysAndInputs() {
        Random r = new Random(42);
        Toeplitz t = new Toeplitz();
        for (int round = 0; round < 200; round++) {
            byte[] key = new byte[40];
            r.nextBytes(key);
            t.setKey(key);
            byte[] in = new byte[r.nextInt(37)];
            r.nextBytes(in);
            assertEquals(io.jnic.testsupport.Toeplitz.hash(key, in), t.hash(in));
        }
    }

    @Test
    void badKeyAndOverlongInputAreRefusedWithAReason() {
        Toeplitz t = new Toeplitz();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.setKey(new byte[39]));
        assertTrue(e.getMessage().contains("40 bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.hash(new byte[37]));
        assertTrue(e.getMessage().contains("exceeds 36"), e.getMessage());
    }
}
