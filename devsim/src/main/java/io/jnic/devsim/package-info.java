/**
 * devsim: simulated hardware for tests, demos and CI. The only model today is an Intel 82599 port
 * ({@link io.jnic.devsim.ixgbe.Ixgbe82599}), written from the Intel 82599 10 GbE Controller Datasheet and
 * never from driver code, so that a driver tested against it is tested against the datasheet.
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>Seams the model is written against: {@link io.jnic.devsim.DmaMemory} (IOVA to memory, filled by
 *       {@link io.jnic.devsim.DmaMap}), {@link io.jnic.devsim.InterruptSink} (MSI-X vectors, INTx/MSI), and
 *       the register accessors and BAR0 memfd of the model itself. A {@link io.jnic.devsim.DmaWindow} is either
 *       mapped memory or, for memory a vfio-user client mapped without a descriptor (QEMU does so for ROM and
 *       BAR ranges), reached through the server's DMA_READ / DMA_WRITE messages: the 82599 model copies packet
 *       buffers through {@code read}/{@code write} (both kinds) and keeps rings and head write-back in mapped
 *       windows only. IOVAs are unsigned 64-bit.</li>
 *   <li>{@link io.jnic.devsim.IxgbeVfioUserModel}: the thin adapter that serves a port over vfio-user with
 *       {@code io.jnic.pci.vfiouser.VfioUserServer} (queue pages as sparse mmap, everything else trapped).</li>
 *   <li>{@link io.jnic.devsim.wire}: what each port is plugged into (another port, a loopback plug, a
 *       generator and sink, a TAP interface).</li>
 *   <li>{@link io.jnic.devsim.Devsim} (ports + wires + {@link io.jnic.devsim.DeviceLoop}, in-JVM),
 *       {@link io.jnic.devsim.ControlServer} (fault injection and status over a UNIX socket) and
 *       {@link io.jnic.devsim.Main} ({@code java -jar devsim.jar --ports 2 --wire pair --socket-dir DIR}).</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * One device thread turns every port; vfio-user server threads and the control socket call the trapped
 * register accessors and fault methods, which synchronise on the port. Doorbells (RDT/TDT) and queue enables
 * are stores into shared memory that the device thread polls: an idle simulator parks 50 us between turns
 * (500 us after a second without work), which bounds the latency of the first doorbell after a pause.
 */
package io.jnic.devsim;
