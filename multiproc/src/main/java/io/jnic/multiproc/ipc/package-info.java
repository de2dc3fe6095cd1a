/**
 * The IPC channel between the processes of one runtime, with DPDK's rte_mp semantics: named actions,
 * one-way messages (MSG), requests with replies (REQ/REP, synchronous with a timeout or asynchronous with a
 * callback), and IGN, the answer of a process that has no handler for a requested action. The primary
 * reaches every secondary, a secondary reaches the primary.
 *
 * <h2>Transport</h2>
 * One UNIX datagram socket per process in the runtime directory: the primary binds {@code mp_socket}, a
 * secondary {@code mp_socket_<pid>_<n>}. Datagrams are sent from the bound socket, so the receiver learns
 * the sender's socket (to reply to) from the source address. Every receiving socket has SO_PASSCRED, so
 * each datagram comes with the sender's pid, uid and gid (SCM_CREDENTIALS, filled in by the kernel);
 * descriptors travel as SCM_RIGHTS.
 *
 * <h2>Wire format, version 1</h2>
 * Each datagram is exactly one message; integers are little-endian.
 * <pre>
 * offset size field
 *  0      4   magic        0x504D4E4A (the bytes 'J' 'N' 'M' 'P')
 *  4      1   version      1
 *  5      1   type         1 MSG, 2 REQ, 3 REP, 4 IGN
 *  6      1   name_len     1..64
 *  7      1   num_fds      0..8, equal to the number of SCM_RIGHTS descriptors that came with it
 *  8      8   request_id   0 for MSG; otherwise the requester's id, echoed by REP and IGN
 * 16      2   param_len    0..256
 * 18      2   reserved     0
 * 20     64   name         the action name, printable ASCII (0x21..0x7e), zero-padded
 * 84      n   param        param_len bytes, opaque to the channel
 * </pre>
 * The datagram's length must be exactly 84 + param_len (at most 340 bytes).
 *
 * <h2>What is refused</h2>
 * A datagram is dropped, counted by cause in {@link io.jnic.multiproc.ipc.IpcStats} and its descriptors
 * closed when it: is longer than 340 bytes or carries more than 8 descriptors (truncated); breaks any rule of
 * the table above (malformed); comes from a uid that is neither ours (effective) nor root (wrong_uid); comes
 * from a socket that is not a peer (bad_peer; for the primary: {@code mp_socket_<pid>_<n>} in the same
 * directory; for a secondary: the primary's {@code mp_socket}); was sent by a pid other than the socket's
 * owner (bad_credentials; the pid in a secondary's socket name, the primary's pid for a secondary); is a
 * request or message for a members-only action from a process that has not registered (unregistered; not
 * answered: see {@link io.jnic.multiproc.ipc.IpcChannel#admitMembers}); names an action without a handler
 * (unknown_action; a request is answered with IGN); or is a reply nobody waits for (unexpected_reply).
 * Nothing a peer sends can stop the channel.
 *
 * <h2>What a peer cannot do</h2>
 * Stall it: replies (REP, IGN) are sent once, without waiting; when the peer's socket queue is full (the
 * kernel's {@code net.unix.max_dgram_qlen}, 10 by default, datagrams it has not read) the reply is dropped
 * and counted (peer_queue_full). Messages and requests wait up to 1 s for room, on the sending thread only.
 * Flood the log: each cause is logged once in full, then summed up in at most one line per cause per 10 s
 * ({@link io.jnic.multiproc.ipc.RateLimitedLog}, {@code -Djnic.ipc.logIntervalMs}); a handler that throws is
 * counted (handler_failed) and logged the same way.
 */
package io.jnic.multiproc.ipc;
