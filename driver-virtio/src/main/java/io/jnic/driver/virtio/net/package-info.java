/**
 * virtio-net (virtio 1.x, 5.1) over any {@link io.jnic.driver.virtio.VirtioTransport}.
 *
 * <p>{@link io.jnic.driver.virtio.net.VirtioNet} negotiates VERSION_1 (required) and, when offered, MAC, STATUS,
 * MTU, MRG_RXBUF, MQ, CTRL_VQ, CTRL_RX, EVENT_IDX, ACCESS_PLATFORM and IN_ORDER (the data queues then run in
 * order, split or packed; the control queue keeps its free list); reads the MAC, link status and
 * max_virtqueue_pairs; sets up receiveq/transmitq pairs (index 2n / 2n+1) and, for MQ, sends
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; RX mode (promiscuous, all-multicast) and the MAC filter table go through the
 * control queue ({@code ControlVirtqueue}) or, for vhost-user, through the frontend's own handler
 * ({@link io.jnic.driver.virtio.net.NetControl}).
 *
 * <p>Data path: {@link io.jnic.driver.virtio.net.VirtioNetRxQueue} keeps its ring full of device-writable buffers
 * and returns (token, frame length) with the 12-byte header stripped; {@link io.jnic.driver.virtio.net.VirtioNetTxQueue}
 * writes a zero header in front of each frame and sends header and frame as one descriptor (VERSION_1 implies
 * ANY_LAYOUT), adds each burst with one ring call and reclaims sent buffers in bulk when fewer than 32
 * descriptors are free. Buffers come from a {@link io.jnic.driver.virtio.net.BufferOps} (the seam the ethdev driver fills
 * with the mbuf pool). Offload features (CSUM, GUEST_CSUM, HOST/GUEST_TSO4/6, CTRL_VLAN, INDIRECT_DESC) are
 * negotiated only when {@link io.jnic.driver.virtio.net.VirtioNet.Config#offloadFeatures} asks; the header's
 * fields are then the ethdev driver's to write and read. Frames spanning several receive buffers (MRG_RXBUF with
 * num_buffers &gt; 1) are linked into one with {@code scatter} ({@link io.jnic.driver.virtio.net.BufferOps#appendSegment}),
 * else dropped and counted; a transmit queue with indirect tables ({@code <prefix>_vq<index>i}) sends a frame of
 * up to {@link io.jnic.driver.virtio.net.VirtioNet#MAX_TX_PIECES} pieces in one ring slot. One thread per queue; no
 * allocation per packet.
 *
 * <p>Rings live in memzones named {@code <prefix>_vq<index>} (and {@code <prefix>_ctrl} for the control queue's
 * command buffer), so another process of the memory group can find them by name; each data queue's driver-side
 * state is recorded beside it in {@code <prefix>_vq<index>s} ({@link io.jnic.driver.virtio.VirtqueueState}), so
 * another process can take a pair over ({@link io.jnic.driver.virtio.net.VirtioNet#resumeQueue}) and the starting
 * process can take it back after that process died ({@link io.jnic.driver.virtio.net.VirtioNet#recoverPair}).
 */
package io.jnic.driver.virtio.net;
