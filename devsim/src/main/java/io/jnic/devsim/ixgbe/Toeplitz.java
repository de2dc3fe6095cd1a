package io.jnic.devsim.ixgbe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The RSS Toeplitz hash of datasheet section 7.1.2.8.1: for every set bit of the input, left to right, XOR
 * the 32 key bits starting at that bit position into the result. The key is the 40 bytes of RSSRK.
 *
 * <p>Being linear, the hash of an input is the XOR of each input byte's contribution at its position, so a
 * table of 256 contributions per position turns the 8 shifts per byte into one lookup. Inputs are at most
 * 36 bytes (IPv6 addresses + ports), which is what a 40-byte key supports.
 */
public final class Toeplitz {
    public static final int KEY_BYTES = 40;
    public static final int MAX_INPUT = KEY_BYTES - 4;
    private static final ValueLayout.OfInt BE_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private final byte[] key = new byte[KEY_BYTES];
    private final int[] table = new int[MAX_INPUT * 256];

    public Toeplitz() {
        setKey(new byte[KEY_BYTES]);
    }

    /** Installs a 40-byte key (key byte 0 is the left-most). */
    public void setKey(byte[] k) {
        if (k.length != KEY_BYTES) {
            throw new IllegalArgumentException("RSS key must be " + KEY_BYTES + " bytes, got " + k.length);
        }
        System.arraycopy(k, 0, key, 0, KEY_BYTES);
        for (int pos = 0; pos < MAX_INPUT; pos++) {
            // 40 key bits starting at this byte: enough for the 32-bit windows of its 8 bits
            long window = 0;
            for (int i = 0; i < 5; i++) {
                window = (window << 8) | (key[pos + i] & 0xFF);
            }
            int[] bitWin = new int[8];
            for (int bit = 0; bit < 8; bit++) {
                bitWin[bit] = (int) (window >>> (8 - bit));
            }
            for (int v = 0; v < 256; v++) {
                int h = 0;
                for (int bit = 0; bit < 8; bit++) {
                    if ((v & (0x80 >>> bit)) != 0) {
                        h ^= bitWin[bit];
                    }
                }
                table[pos * 256 + v] = h;
            }
        }
    }

    public byte[] key() {
        return key.clone();
    }

    /**
     * Hash contribution of {@code length} input bytes read from {@code data} at {@code offset}, placed at
     * input position {@code position}. XOR the parts of a non-contiguous input together.
     */
    public int hash(MemorySegment data, long offset, int length, int position) {
        if (position < 0 || length < 0 || position + length > MAX_INPUT) {
            throw new IllegalArgumentException("Toeplitz input bytes [" + position + ", " + (position + length)
                    + ") exceed the " + MAX_INPUT + " bytes a 40-byte key covers");
        }
        int h = 0;
        int i = 0;
        for (; i + 4 <= length; i += 4) { // one 32-bit read per 4 input bytes
            int v = data.get(BE_INT, offset + i);
            int t = (position + i) * 256;
            h ^= table[t + (v >>> 24)] ^ table[t + 256 + ((v >>> 16) & 0xFF)] ^ table[t + 512 + ((v >>> 8) & 0xFF)]
                    ^ table[t + 768 + (v & 0xFF)];
        }
        for (; i < length; i++) {
            h ^= table[(position + i) * 256 + (data.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFF)];
        }
        return h;
    }

    /** Hash of a whole input array, as the datasheet's ComputeHash(input, N). */
    public int hash(byte[] input) {
        if (input.length > MAX_INPUT) {
            throw new IllegalArgumentException("Toeplitz input of " + input.length + " bytes exceeds " + MAX_INPUT);
        }
        int h = 0;
        for (int i = 0; i < input.length; i++) {
            h ^= table[i * 256 + (input[i] & 0xFF)];
        }
        return h;
    }
}
