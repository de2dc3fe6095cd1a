package io.jnic.pci.vfiouser;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The VERSION message's capabilities ("VFIO_USER_VERSION", capability table): how many descriptors the
 * sender accepts per message and the largest data transfer it accepts. We never offer migration,
 * twin sockets or REGION_WRITE_MULTI, so those are left out of what we send and ignored in what we get.
 */
record Capabilities(int maxMsgFds, long maxDataXferSize) {
    /** SCM_MAX_FD: the kernel passes at most this many descriptors per message. */
    static final int SCM_MAX_FD = 253;
    /** Largest data transfer we accept a peer to announce (our buffers are ints). */
    static final long MAX_XFER_LIMIT = 1L << 30;

    String json() {
        return "{\"capabilities\":{\"" + VfioUser.CAP_MAX_MSG_FDS + "\":" + maxMsgFds + ",\""
                + VfioUser.CAP_MAX_DATA_XFER_SIZE + "\":" + maxDataXferSize + "}}";
    }

    /** Writes a VERSION payload (major, minor, JSON with its NUL) as a command or reply into {@code m}. */
    void write(VfioUserMessage m, int msgId, int flags) {
        byte[] json = json().getBytes(StandardCharsets.UTF_8);
        m.begin(msgId, VfioUser.CMD_VERSION, flags, VfioUserLayout.Version.SIZE + json.length + 1);
        m.putU16(VfioUserLayout.Version.MAJOR, VfioUser.VERSION_MAJOR);
        m.putU16(VfioUserLayout.Version.MINOR, VfioUser.VERSION_MINOR);
        m.payload(VfioUserLayout.Version.DATA, json.length).copyFrom(java.lang.foreign.MemorySegment.ofArray(json));
    }

    /** Reads the capabilities of a VERSION payload, with the spec's defaults for what is absent. */
    static Capabilities read(VfioUserMessage m) {
        m.requirePayload(VfioUserLayout.Version.SIZE, "version");
        int length = m.payloadLength() - VfioUserLayout.Version.SIZE;
        byte[] bytes = m.payload(VfioUserLayout.Version.DATA, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        int fds = VfioUser.DEFAULT_MAX_MSG_FDS;
        long xfer = VfioUser.DEFAULT_MAX_DATA_XFER_SIZE;
        if (end == 0) {
            return new Capabilities(fds, xfer);
        }
        Object root;
        try {
            root = Json.parse(new String(bytes, 0, end, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new VfioUserException(VfioUser.CMD_VERSION, "version data is not JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new VfioUserException(VfioUser.CMD_VERSION, "version data is not a JSON object");
        }
        Object caps = top.get("capabilities");
        if (caps == null) {
            return new Capabilities(fds, xfer);
        }
        if (!(caps instanceof Map<?, ?> map)) {
            throw new VfioUserException(VfioUser.CMD_VERSION, "\"capabilities\" is not a JSON object");
        }
        if (map.containsKey(VfioUser.CAP_MAX_MSG_FDS)) {
            fds = (int) number(map, VfioUser.CAP_MAX_MSG_FDS, 0, SCM_MAX_FD);
        }
        if (map.containsKey(VfioUser.CAP_MAX_DATA_XFER_SIZE)) {
            xfer = number(map, VfioUser.CAP_MAX_DATA_XFER_SIZE, 1, MAX_XFER_LIMIT);
        }
        return new Capabilities(fds, xfer);
    }

    private static long number(Map<?, ?> map, String name, long min, long max) {
        if (!(map.get(name) instanceof Long v) || v < min || v > max) {
            throw new VfioUserException(VfioUser.CMD_VERSION, "capability \"" + name + "\" is " + map.get(name)
                    + ", expected an integer from " + min + " to " + max);
        }
        return v;
    }
}
