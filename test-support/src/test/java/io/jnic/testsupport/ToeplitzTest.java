package io.jnic.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The oracle against the verification vectors of the 82599 datasheet, 7.1.2.8.3 (IPv4, with and without ports). */
class ToeplitzTest {
    private static int ip(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }

    @Test
    void matchesThePublishedIpv4Vectors() {
        // source 66.9.149.187:2794 -> destination 161.142.100.80:1766
        int src = ip(66, 9, 149, 187);
        int dst = ip(161, 142, 100, 80);
        assertEquals(0x323e8fc2, Toeplitz.hash(Toeplitz.microsoftKey(), Toeplitz.ipv4(src, dst)));
        assertEquals(0x51ccc178, Toeplitz.hash(Toeplitz.microsoftKey(), Toeplitz.ipv4(src, dst, 2794, 1766)));
        // source 199.92.111.2:14230 -> destination 65.69.140.83:4739
        src = ip(199, 92, 111, 2);
        dst = ip(65, 69, 140, 83);
        assertEquals(0xd718262a, Toeplitz.hash(Toeplitz.microsoftKey(), Toeplitz.ipv4(src, dst)));
        assertEquals(0xc626b0ea, Toeplitz.hash(Toeplitz.microsoftKey(), Toeplitz.ipv4(src, dst, 14230, 4739)));
    }

    @Test
    void isLinearAndTheRetaTakesTheLowBits() {
        byte[] a = Toeplitz.ipv4(0x0a000001, 0x0a0000fe, 1024, 4789);
        byte[] b = Toeplitz.ipv4(0x01020304, 0x05060708, 9, 10);
        byte[] x = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            x[i] = (byte) (a[i] ^ b[i]);
        }
        byte[] k = Toeplitz.microsoftKey();
        assertEquals(Toeplitz.hash(k, a) ^ Toeplitz.hash(k, b), Toeplitz.hash(k, x));
        int[] reta = new int[128];
        for (int i = 0; i < reta.length; i++) {
            reta[i] = (i * 7 + 3) % 4;
        }
        assertEquals(reta[0x45], Toeplitz.queue(0x12345645 | 0x80000000, reta));
        assertEquals((0x7f & 0xC5) % 3, Toeplitz.evenQueue(0xC5, 3));
        assertThrows(IllegalArgumentException.class, () -> Toeplitz.hash(new byte[3], a));
    }
}
