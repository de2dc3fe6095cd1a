package io.jnic.driver.virtio.vhost;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code --vdev virtio_user<N>,path=<socket>[,queues=<pairs>][,queue_size=<n>][,mac=<aa:bb:..>]
 * [,packed_vq=0|1][,in_order=0|1]} string, with DPDK's key names, meanings and defaults.
 *
 * @param name      the device name, "virtio_user" followed by digits
 * @param path      the vhost-user backend's socket
 * @param queues    queue pairs to set up (1..{@link #MAX_QUEUES})
 * @param queueSize entries per virtqueue, a power of two
 * @param mac       the port's MAC address, or empty for a random locally administered one
 * @param packedVq  offer packed virtqueues (VIRTIO_F_RING_PACKED) when the backend has them; split otherwise
 * @param inOrder   offer VIRTIO_F_IN_ORDER when the backend has it (DPDK's default, in_order=1)
 */
public record VirtioUserArgs(String name, Path path, int queues, int queueSize, Optional<byte[]> mac, boolean packedVq,
        boolean inOrder) {
    public static final String PREFIX = "virtio_user";
    public static final int MAX_QUEUES = 128;
    public static final int DEFAULT_QUEUE_SIZE = 256;
    private static final String KEYS = "path, queues, queue_size, mac, packed_vq, in_order";

    /** Split rings (packed_vq=0), in order when the backend offers it (in_order=1). */
    public VirtioUserArgs(String name, Path path, int queues, int queueSize, Optional<byte[]> mac) {
        this(name, path, queues, queueSize, mac, false, true);
    }

    /** In order when the backend offers it (in_order=1). */
    public VirtioUserArgs(String name, Path path, int queues, int queueSize, Optional<byte[]> mac, boolean packedVq) {
        this(name, path, queues, queueSize, mac, packedVq, true);
    }

    /**
     * @throws IllegalArgumentException naming the bad part and what is accepted
     */
    public static VirtioUserArgs parse(String vdev) {
        if (vdev == null || vdev.isBlank()) {
            throw new IllegalArgumentException("empty --vdev: expected virtio_user0,path=/path/to/vhost.sock[,queues=N]");
        }
        String[] parts = vdev.split(",", -1);
        String name = parts[0].trim();
        if (!name.matches(PREFIX + "[0-9]+")) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': the device name '" + name + "' must be "
                    + PREFIX + " followed by a number, e.g. virtio_user0");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--vdev '" + vdev + "': '" + p + "' is not key=value (keys: " + KEYS + ")");
            }
            String k = p.substring(0, eq).trim();
            if (kv.put(k, p.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("--vdev '" + vdev + "': key '" + k + "' given twice");
            }
        }
        return of(vdev, name, kv);
    }

    /**
     * Builds the arguments from already split key/value pairs ({@code vdev} names the whole string in messages).
     *
     * @throws IllegalArgumentException naming the bad part and what is accepted
     */
    public static VirtioUserArgs of(String vdev, String name, Map<String, String> kv) {
        for (String k : kv.keySet()) {
            if (!java.util.List.of("path", "queues", "queue_size", "mac", "packed_vq", "in_order").contains(k)) {
                throw new IllegalArgumentException("--vdev '" + vdev + "': unknown key '" + k + "' (supported: " + KEYS + ")");
            }
        }
        String path = kv.get("path");
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': path=<vhost-user socket> is required");
        }
        int queues = intValue(vdev, kv, "queues", 1);
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': queues=" + queues + " must be 1.." + MAX_QUEUES);
        }
        int qs = intValue(vdev, kv, "queue_size", DEFAULT_QUEUE_SIZE);
        if (qs < 2 || qs > 32768 || Integer.bitCount(qs) != 1) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': queue_size=" + qs + " must be a power of two in 2..32768");
        }
        Optional<byte[]> mac = Optional.empty();
        if (kv.containsKey("mac")) {
            mac = Optional.of(parseMac(vdev, kv.get("mac")));
        }
        int packed = intValue(vdev, kv, "packed_vq", 0);
        if (packed != 0 && packed != 1) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': packed_vq=" + packed + " must be 0 (split rings) or 1"
                    + " (packed rings)");
        }
        int inOrder = intValue(vdev, kv, "in_order", 1);
        if (inOrder != 0 && inOrder != 1) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': in_order=" + inOrder + " must be 0 (buffers used in "
                    + "any order) or 1 (VIRTIO_F_IN_ORDER when the backend offers it)");
        }
        return new VirtioUserArgs(name, Path.of(path), queues, qs, mac, packed == 1, inOrder == 1);
    }

    private static int intValue(String vdev, Map<String, String> kv, String key, int dflt) {
        String v = kv.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': " + key + "=" + v + " is not a number");
        }
    }

    static byte[] parseMac(String vdev, String s) {
        String[] b = s.split(":", -1);
        if (b.length != 6) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': mac=" + s + " is not six hex bytes like 02:00:00:00:00:01");
        }
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (b[i].length() < 1 || b[i].length() > 2 || !b[i].matches("[0-9a-fA-F]+")) {
                throw new IllegalArgumentException("--vdev '" + vdev + "': mac=" + s + " is not six hex bytes like 02:00:00:00:00:01");
            }
            mac[i] = (byte) Integer.parseInt(b[i], 16);
        }
        if ((mac[0] & 1) != 0) {
            throw new IllegalArgumentException("--vdev '" + vdev + "': mac=" + s + " is a multicast address");
        }
        return mac;
    }
}
