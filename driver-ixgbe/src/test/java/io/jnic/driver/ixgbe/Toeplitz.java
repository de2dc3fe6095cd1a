package io.jnic.driver.ixgbe;

/** The Toeplitz hash of datasheet 7.1.2.8.1 / Microsoft's RSS spec, computed bit by bit (test oracle). */
final class Toeplitz {
    private Toeplitz() {
    }

    static int hash(byte[] key, byte[] input) {
        int result = 0;
        // the 32-bit window of the key starting at bit i
        long window = ((key[0] & 0xFFL) << 24) | ((key[1] & 0xFFL) << 16) | ((key[2] & 0xFFL) << 8) | (key[3] & 0xFFL);
        int next = 4;
        for (byte b : input) {
            for (int bit = 7; bit >= 0; bit--) {
                if (((b >> bit) & 1) != 0) {
                    result ^= (int) window;
                }
                window = (window << 1) & 0xFFFFFFFFL;
                int kb = next < key.length ? key[next] & 0xFF : 0;
                window |= (kb >> bit) & 1;
            }
            next++;
        }
        return result;
    }
}
