/**
 * vfio-user: a PCI function emulated in another process and reached over a UNIX socket, following QEMU's
 * "vfio-user Protocol Specification" (docs/interop/vfio-user.rst; formerly docs/devel/vfio-user.rst).
 * Protocol version 0.1, SOCK_STREAM, host byte order (little-endian on the machines we run on).
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li><b>Codec</b>: {@link io.jnic.pci.vfiouser.VfioUserMessage} is a flyweight over one reusable buffer
 *       (section "Header": message id, command, size, flags with Type / No_reply / Error, errno);
 *       {@link io.jnic.pci.vfiouser.VfioUserLayout} names every payload offset; every access is checked
 *       against the message size. {@link io.jnic.pci.vfiouser.VfioUser} holds the command numbers
 *       ("Commands") and the {@code <linux/vfio.h>} flags and indices the protocol reuses.</li>
 *   <li><b>Client</b>: {@link io.jnic.pci.vfiouser.VfioUserDevice} is a {@link io.jnic.pci.PciDevice}:
 *       synchronous requests under one lock, each with a timeout, replies matched by message id; BARs
 *       ({@link io.jnic.pci.vfiouser.VfioUserBar}) map their sparse-mmap areas and trap the rest.</li>
 *   <li><b>Server</b>: {@link io.jnic.pci.vfiouser.VfioUserServer} serves a
 *       {@link io.jnic.pci.vfiouser.VfioUserDeviceModel}, one client at a time, and gives it the client's
 *       memory as {@link io.jnic.pci.vfiouser.DmaMemory} (IOVA translation with bounds checks).</li>
 * </ul>
 *
 * <h2>Commands implemented</h2>
 * <table>
 *   <caption>vfio-user commands and where they are handled</caption>
 *   <tr><th>command</th><th>spec section</th><th>client</th><th>server</th></tr>
 *   <tr><td>1 VERSION</td><td>"VFIO_USER_VERSION": JSON capabilities {@code max_msg_fds},
 *       {@code max_data_xfer_size}; migration, twin sockets, write_multiple not offered</td><td>sends</td>
 *       <td>answers, offering at most what QEMU's client accepts (hw/vfio-user/protocol.h: max_msg_fds &lt;= 16,
 *       max_data_xfer_size &lt;= 64 MiB; QEMU fails its realize with "malformed max_msg_fds" above)</td></tr>
 *   <tr><td>2 DMA_MAP</td><td>"VFIO_USER_DMA_MAP": flags READ / WRITE; the memory's fd as SCM_RIGHTS, or none
 *       when the server may reach it only through DMA_READ / DMA_WRITE</td><td>sends, with or without a
 *       descriptor, READ or READ|WRITE ({@code dmaMap(fd, offset, memory, iova, flags)})</td>
 *       <td>mmaps the fd (checked against its size; an offset that is not page-aligned is mapped from its page);
 *       without an fd the region is served by messages ({@link io.jnic.pci.vfiouser.DmaMemory.Region#mapped()}
 *       false); overlap within one connection: EEXIST</td></tr>
 *   <tr><td>3 DMA_UNMAP</td><td>"VFIO_USER_DMA_UNMAP", with the kernel's VFIO_DMA_UNMAP_FLAG_ALL (1 &lt;&lt; 1) that
 *       QEMU sends; GET_DIRTY_BITMAP (1 &lt;&lt; 0) refused with EOPNOTSUPP</td><td>sends</td>
 *       <td>removes every mapping lying inside the range, as VFIO type1 does (QEMU with a vIOMMU unmaps ranges
 *       that cover many); a range that cuts a mapping: EINVAL; nothing inside: success; ALL with address and
 *       size 0: everything</td></tr>
 *   <tr><td>4 DEVICE_GET_INFO</td><td>"VFIO_USER_DEVICE_GET_INFO"</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>5 DEVICE_GET_REGION_INFO</td><td>"VFIO_USER_DEVICE_GET_REGION_INFO" with the
 *       VFIO_REGION_INFO_CAP_SPARSE_MMAP capability ("VFIO region info cap sparse mmap"), argsz retry, fd
 *       for mappable regions</td><td>sends</td><td>answers; when the capabilities do not fit the client's argsz
 *       the reply carries the argsz needed and neither CAPS (QEMU refuses CAPS with cap_offset 0) nor MMAP and
 *       its descriptor</td></tr>
 *   <tr><td>7 DEVICE_GET_IRQ_INFO</td><td>"VFIO_USER_DEVICE_GET_IRQ_INFO"</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>8 DEVICE_SET_IRQS</td><td>"VFIO_USER_DEVICE_SET_IRQS": eventfds for TRIGGER (split by the
 *       peer's max_msg_fds), disable-all, client-side trigger/mask/unmask with DATA_NONE/BOOL</td>
 *       <td>sends</td><td>answers</td></tr>
 *   <tr><td>9 / 10 REGION_READ / WRITE</td><td>"VFIO_USER_REGION_READ", "VFIO_USER_REGION_WRITE", split
 *       by max_data_xfer_size</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>11 / 12 DMA_READ / WRITE</td><td>"VFIO_USER_DMA_READ", "VFIO_USER_DMA_WRITE" (address u64,
 *       count u64, data at 16)</td><td>served whenever they arrive (between requests too), within the DMA_MAP
 *       flags (a write to a READ-only map: EPERM; outside one map: EFAULT; count above our max_data_xfer_size:
 *       E2BIG)</td><td>sent for regions mapped without a descriptor ({@link
 *       io.jnic.pci.vfiouser.VfioUserServer#dmaRead}, used by {@link io.jnic.pci.vfiouser.DmaMemory}'s
 *       accessors), split by the client's max_data_xfer_size, one at a time, each bounded by the I/O timeout;
 *       never from the server thread (it reads the replies)</td></tr>
 *   <tr><td>13 DEVICE_RESET</td><td>"VFIO_USER_DEVICE_RESET"</td><td>sends</td><td>answers</td></tr>
 * </table>
 * Not implemented: DEVICE_GET_REGION_IO_FDS (6), REGION_WRITE_MULTI (15), DEVICE_FEATURE and the
 * migration messages (16-18), twin-socket mode; a server answers them with ENOSYS, a client answers any
 * server command but DMA_READ / DMA_WRITE with ENOSYS (as QEMU does).
 *
 * <h2>One socket, demultiplexed</h2>
 * The spec lets server requests travel on a second socket (twin-socket mode) or on the main one, where
 * "unrelated messages sent from the server to the client can appear in between a client to server
 * request/reply" ("Command Concurrency"). QEMU's client (hw/vfio-user/proxy.c) uses the main socket with a
 * reader that hands replies to their waiters by message id and queues server requests; so does
 * {@link io.jnic.pci.vfiouser.VfioUserDevice}: whoever holds its receive lock reads the socket (the requester
 * while it waits for its reply, a reader thread otherwise), replies go to the request waiting with that id,
 * server requests are answered at once from a second send buffer, and whole messages go out under one send
 * lock. A server that sends DMA_READ while the client is idle is therefore answered then, not when the
 * client's next request happens to collide with it. The server side works the same way in reverse: its
 * thread reads every message, a reply completes the DMA request of a device thread waiting for it.
 *
 * <h2>Failure handling</h2>
 * An error reply, with or without a payload (the spec says "the reply message must only include the reply
 * header", but libvfio-user sends the request's payload back when a region callback fails), is an error of
 * that request: a {@link io.jnic.pci.vfiouser.VfioUserException} with the errno by name; the connection goes on.
 * So does a reply to nothing (a wrong or late message id: counted in {@code unmatchedReplies()} and dropped,
 * as QEMU does) and a reply with our id for another command (an error of that request). Anything that leaves
 * the byte stream untrustworthy (a size outside [16, buffer], a message cut short, a message type that is
 * neither command nor reply, too many descriptors, a timeout, the end of the stream) ends the connection: the
 * client refuses further calls naming the first failure, the server drops the client and waits for the next.
 * Every count, offset and length in a peer's message is checked against the message and against what the
 * request asked for before it is used ({@link io.jnic.pci.vfiouser.VfioUserMessage}); a peer's request that
 * fails a check gets an error reply and is counted ({@code refusedServerRequests()}, {@code errorReplies()}).
 * Descriptors are kept only where the protocol gives them a use and closed everywhere else. On client
 * disconnect the server closes the client's eventfds but keeps device state and DMA regions (the device
 * outlives its client, as a VFIO device outlives one opener; the spec's "Client Disconnection" asks servers
 * to unmap them, which would stop the queues secondaries still drive); each region records the connection
 * that mapped it, a later client's overlapping DMA_MAP replaces a departed connection's region, and a device
 * reset or the server's close drops them. Sealable memfds are sealed against shrinking at DMA_MAP.
 *
 * <h2>Interoperability notes</h2>
 * QEMU's VFIOUserDMARW (hw/vfio-user/protocol.h) has a 4-byte count with the data at payload offset 12,
 * where the spec and libvfio-user have 8 bytes and offset 16; we follow the spec, so DMA_READ / DMA_WRITE
 * between devsim and QEMU's client would disagree on the layout. QEMU sends them only for memory it maps
 * without a descriptor (ROM and BAR ranges), which a NIC model does not use for rings or buffers.
 *
 * <h2>Tests</h2>
 * Beside the unit and integration tests, {@code VfioUserClientFuzzTest} runs a hostile server against the
 * client (mutated replies, injected DMA requests and replies to nothing; seeded, {@code -Dfuzz.seed},
 * {@code -Dfuzz.iterations}); devsim's {@code VfioUserServerFuzzTest} runs a hostile client against the server.
 */
package io.jnic.pci.vfiouser;
