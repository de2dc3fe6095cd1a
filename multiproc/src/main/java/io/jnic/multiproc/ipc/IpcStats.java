package io.jnic.multiproc.ipc;

/**
 * Counters of one channel: datagrams accepted and dropped, by reason. Dropped datagrams never reach a
 * handler and their descriptors are closed.
 *
 * @param received         datagrams accepted (messages, requests, replies)
 * @param truncated        larger than the largest message, or with more descriptors than fit
 * @param malformed        bad magic, version, type, lengths, name or descriptor count
 * @param wrongUid         sent by another user (neither our euid nor root)
 * @param badPeer          sent from a socket that is not a peer of this channel
 * @param unknownAction    no handler registered for the action (requests are answered with IGN)
 * @param unexpectedReply  a reply nobody waits for (late, after its timeout, or from a peer not asked)
 */
public record IpcStats(long received, long truncated, long malformed, long wrongUid, long badPeer,
        long unknownAction, long unexpectedReply) {

    /** Every dropped datagram. */
    public long dropped() {
        return truncated + malformed + wrongUid + badPeer + unknownAction + unexpectedReply;
    }
}
