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
 * A datagram is dropped, counted in {@link io.jnic.multiproc.ipc.IpcStats} and its descriptors closed
 * when it: is longer than 340 bytes or carries more than 8 descriptors (truncated); breaks any rule of the
 * table above (malformed); comes from a uid that is neither ours (effective) nor root; comes from a socket
 * that is not a peer (for the primary: {@code mp_socket_<pid>_<n>} in the same directory; for a
 * secondary: the primary's {@code mp_socket}); names an action without a handler (a request is answered
 * with IGN); or is a reply nobody waits for. Nothing a peer sends can stop the channel.
 */
package io.jnic.multiproc.ipc;
