package io.jnic.multiproc.ipc;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counters of one channel: datagrams accepted, dropped by cause, replies not delivered and handlers that
 * failed. A dropped datagram never reaches a handler and its descriptors are closed.
 *
 * @param received         datagrams accepted (messages, requests, replies)
 * @param truncated        larger than the largest message, or with more descriptors than fit
 * @param malformed        bad magic, version, type, lengths, name or descriptor count
 * @param wrongUid         sent by another user (neither our euid nor root)
 * @param badPeer          sent from a socket that is not a peer of this channel
 * @param badCredentials   the kernel's pid of the sender does not own the socket it sent from (a secondary's socket
 *                         name carries its pid; the primary's is the one that holds the group's lock)
 * @param unregistered     a request or message for a members-only action from a process that has not registered
 *                         (nothing is done for it, nothing is answered)
 * @param unknownAction    no handler registered for the action (requests are answered with IGN)
 * @param unexpectedReply  a reply nobody waits for (late, after its timeout, or from a peer not asked)
 * @param peerQueueFull    replies (REP, IGN) not delivered because the peer's socket queue was full: replies are
 *                         never waited for, so a peer that does not read its socket cannot stall this channel
 * @param handlerFailed    action handlers that threw
 */
public record IpcStats(long received, long truncated, long malformed, long wrongUid, long badPeer, long badCredentials,
        long unregistered, long unknownAction, long unexpectedReply, long peerQueueFull, long handlerFailed) {

    /** Every dropped incoming datagram (not counting undelivered replies and failed handlers). */
    public long dropped() {
        return truncated + malformed + wrongUid + badPeer + badCredentials + unregistered + unknownAction
                + unexpectedReply;
    }

    /** The counters in component order (the order of {@link #names()}). */
    public long[] values() {
        return new long[] {received, truncated, malformed, wrongUid, badPeer, badCredentials, unregistered,
            unknownAction, unexpectedReply, peerQueueFull, handlerFailed};
    }

    /** The counters' names as they appear in JSON ({@code received}, {@code truncated}, ...), in component order. */
    public static String[] names() {
        return Arrays.stream(Counter.values()).map(c -> c.key).toArray(String[]::new);
    }

    /** Stats from {@link #values()}; missing trailing counters are 0, extra ones ignored. */
    public static IpcStats of(long... v) {
        long[] a = Arrays.copyOf(v, Counter.values().length);
        return new IpcStats(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]);
    }

    /** Name to value, in component order, plus {@code dropped}. */
    public Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        long[] v = values();
        String[] n = names();
        for (int i = 0; i < v.length; i++) {
            m.put(n[i], v[i]);
        }
        m.put("dropped", dropped());
        return m;
    }

    /** One JSON object: {@code {"received": 12, "truncated": 0, ..., "dropped": 0}}. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Long> e : toMap().entrySet()) {
            sb.append(sb.length() == 1 ? "" : ", ").append('"').append(e.getKey()).append("\": ").append(e.getValue());
        }
        return sb.append('}').toString();
    }

    /** "received 12, dropped 3 (malformed 2, unregistered 1)": the nonzero drop causes only. */
    public String summary() {
        StringBuilder causes = new StringBuilder();
        long[] v = values();
        String[] n = names();
        for (int i = 1; i < v.length; i++) {
            if (v[i] != 0) {
                causes.append(causes.isEmpty() ? "" : ", ").append(n[i]).append(' ').append(v[i]);
            }
        }
        return "received " + received + ", dropped " + dropped() + (causes.isEmpty() ? "" : " (" + causes + ")");
    }
}
