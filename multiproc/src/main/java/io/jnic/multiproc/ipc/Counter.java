package io.jnic.multiproc.ipc;

/**
 * The counters of a channel, in the order of {@link IpcStats}'s components: what was accepted, and every cause
 * for which a datagram is dropped or a reply is not delivered. {@code key} names it in JSON and in the logs.
 */
enum Counter {
    RECEIVED("received", "datagrams accepted"),
    TRUNCATED("truncated", "datagrams longer than a message or with more descriptors than fit"),
    MALFORMED("malformed", "datagrams that break the wire format"),
    WRONG_UID("wrong_uid", "datagrams from another user"),
    BAD_PEER("bad_peer", "datagrams from a socket that is not a peer"),
    BAD_CREDENTIALS("bad_credentials", "datagrams whose kernel-reported pid does not own the sending socket"),
    UNREGISTERED("unregistered", "requests and messages from a process that is not a registered member"),
    UNKNOWN_ACTION("unknown_action", "requests and messages for an action without a handler"),
    UNEXPECTED_REPLY("unexpected_reply", "replies nobody waits for"),
    PEER_QUEUE_FULL("peer_queue_full", "replies not delivered because the peer's socket queue was full"),
    HANDLER_FAILED("handler_failed", "handlers that threw");

    final String key;
    final String what;

    Counter(String key, String what) {
        this.key = key;
        this.what = what;
    }
}
