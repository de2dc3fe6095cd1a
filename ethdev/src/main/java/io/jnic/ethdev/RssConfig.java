package io.jnic.ethdev;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Receive-side scaling: the Toeplitz key, the redirection table (hash low bits -> queue) and the hash
 * types. An empty {@code reta} means "spread evenly over the configured RX queues"; a null {@code key} means
 * the driver's default key.
 */
public record RssConfig(byte[] key, int[] reta, Set<RssHashType> hashTypes) {
    public RssConfig {
        key = key == null ? null : key.clone();
        reta = reta == null ? new int[0] : reta.clone();
        hashTypes = hashTypes.isEmpty() ? EnumSet.noneOf(RssHashType.class) : EnumSet.copyOf(hashTypes);
        for (int q : reta) {
            if (q < 0) {
                throw new IllegalArgumentException("RETA entry " + q + " is negative");
            }
        }
    }

    /** Default key, even RETA, the given hash types. */
    public static RssConfig of(Set<RssHashType> types) {
        return new RssConfig(null, null, types);
    }

    @Override
    public byte[] key() {
        return key == null ? null : key.clone();
    }

    @Override
    public int[] reta() {
        return reta.clone();
    }

    @Override
    public String toString() {
        return "RssConfig[key " + (key == null ? "default" : key.length + " bytes") + ", reta "
                + (reta.length == 0 ? "even" : Arrays.toString(reta)) + ", " + hashTypes + "]";
    }
}
