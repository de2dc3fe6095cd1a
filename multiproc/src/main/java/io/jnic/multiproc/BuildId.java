package io.jnic.multiproc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The id of this build, written by the primary into the shared config and compared by every secondary: the
 * version plus a hash of the build time and the shared layout version, e.g. {@code 0.1.0-SNAPSHOT+3f9a0c12d4e1}.
 * Processes from different builds could disagree on shared layouts, so they must not attach.
 */
public final class BuildId {
    /**
     * System property that replaces the id (for tests that simulate another build, and for diagnosis).
     */
    public static final String OVERRIDE_PROPERTY = "jnic.build.id";
    /** Longest id the config holds. */
    public static final int MAX_LENGTH = 64;

    private static final String COMPUTED = compute();

    private BuildId() {
    }

    /** This process's build id. */
    public static String current() {
        String override = System.getProperty(OVERRIDE_PROPERTY);
        String id = override != null && !override.isBlank() ? override.strip() : COMPUTED;
        if (id.length() > MAX_LENGTH || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("build id '" + id + "' must be 1 to " + MAX_LENGTH
                    + " printable ASCII characters (check -D" + OVERRIDE_PROPERTY + ")");
        }
        return id;
    }

    private static String compute() {
        Properties p = new Properties();
        try (InputStream in = BuildId.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read io/jnic/multiproc/build.properties: " + e.getMessage(), e);
        }
        String version = p.getProperty("version", "unknown");
        String time = p.getProperty("time", "unknown");
        if (version.startsWith("${")) { // unfiltered: running from sources without Maven
            version = "dev";
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] h = sha.digest((version + '\n' + time + '\n' + SharedConfig.LAYOUT_VERSION).getBytes(StandardCharsets.UTF_8));
            return version + "+" + HexFormat.of().formatHex(h, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
