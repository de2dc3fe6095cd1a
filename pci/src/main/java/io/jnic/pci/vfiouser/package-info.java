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
 *       <td>answers</td></tr>
 *   <tr><td>2 DMA_MAP</td><td>"VFIO_USER_DMA_MAP", with the memory's fd as SCM_RIGHTS</td><td>sends</td>
 *       <td>mmaps the fd (checked against its size), refuses overlap with EEXIST; no fd: EOPNOTSUPP</td></tr>
 *   <tr><td>3 DMA_UNMAP</td><td>"VFIO_USER_DMA_UNMAP" (exact ranges, no flags)</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>4 DEVICE_GET_INFO</td><td>"VFIO_USER_DEVICE_GET_INFO"</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>5 DEVICE_GET_REGION_INFO</td><td>"VFIO_USER_DEVICE_GET_REGION_INFO" with the
 *       VFIO_REGION_INFO_CAP_SPARSE_MMAP capability ("VFIO region info cap sparse mmap"), argsz retry, fd
 *       for mappable regions</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>7 DEVICE_GET_IRQ_INFO</td><td>"VFIO_USER_DEVICE_GET_IRQ_INFO"</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>8 DEVICE_SET_IRQS</td><td>"VFIO_USER_DEVICE_SET_IRQS": eventfds for TRIGGER (split by the
 *       peer's max_msg_fds), disable-all, client-side trigger/mask/unmask with DATA_NONE/BOOL</td>
 *       <td>sends</td><td>answers</td></tr>
 *   <tr><td>9 / 10 REGION_READ / WRITE</td><td>"VFIO_USER_REGION_READ", "VFIO_USER_REGION_WRITE", split
 *       by max_data_xfer_size</td><td>sends</td><td>answers</td></tr>
 *   <tr><td>11 / 12 DMA_READ / WRITE</td><td>"VFIO_USER_DMA_READ", "VFIO_USER_DMA_WRITE"</td><td>served
 *       from {@code dmaMap}ped memory while a request is outstanding</td><td>never sent (DMA goes through
 *       the mapped fds)</td></tr>
 *   <tr><td>13 DEVICE_RESET</td><td>"VFIO_USER_DEVICE_RESET"</td><td>sends</td><td>answers</td></tr>
 * </table>
 * Not implemented: DEVICE_GET_REGION_IO_FDS (6), REGION_WRITE_MULTI (15), DEVICE_FEATURE and the
 * migration messages (16-18), twin-socket mode; a server answers them with ENOSYS.
 *
 * <h2>Failure handling</h2>
 * Error replies carry only the header ("Header": "If an error occurs, the reply message must only include
 * the reply header") and surface as {@link io.jnic.pci.vfiouser.VfioUserException} with the errno by name.
 * Anything that leaves the byte stream untrustworthy (a size outside [16, buffer], a message cut short, a
 * wrong id, too many descriptors, a timeout) ends the connection: the client refuses further calls, the
 * server drops the client and waits for the next. Descriptors are kept only where the protocol gives
 * them a use and closed everywhere else. On client disconnect the server closes the client's eventfds but
 * keeps device state and DMA regions (the device outlives its client, as a VFIO device outlives one opener;
 * the spec's "Client Disconnection" leaves this to the server); each region records the connection that
 * mapped it, a later client's overlapping DMA_MAP replaces a departed connection's region, and a device
 * reset or the server's close drops them. Sealable memfds are sealed against shrinking at DMA_MAP.
 */
package io.jnic.pci.vfiouser;
