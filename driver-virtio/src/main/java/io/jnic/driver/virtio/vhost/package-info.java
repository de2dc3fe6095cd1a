/**
 * The frontend of the vhost-user protocol (QEMU docs/interop/vhost-user.rst), a.k.a. DPDK's virtio-user: a
 * virtio-net device whose "hardware" is a vhost-user backend (DPDK's net_vhost, OVS-DPDK, VPP) reached through a
 * UNIX socket, selected with {@code --vdev virtio_user0,path=/path/to/socket[,queues=N][,queue_size=N][,mac=..][,packed_vq=1][,in_order=0]}
 * ({@link io.jnic.driver.virtio.vhost.VirtioUserArgs}).
 *
 * <p>{@link io.jnic.driver.virtio.vhost.VhostUserClient} speaks the protocol: GET/SET_FEATURES,
 * GET/SET_PROTOCOL_FEATURES (MQ, REPLY_ACK), GET_QUEUE_NUM, SET_OWNER, SET_MEM_TABLE (the fds of the memory
 * group's segments; "guest physical" address = the segment's IOVA, user address = our mapping),
 * SET_VRING_NUM/ADDR/BASE/KICK/CALL/ENABLE, GET_VRING_BASE; every reply is checked (request, flags, size).
 * {@link io.jnic.driver.virtio.vhost.VirtioUserTransport} is the {@link io.jnic.driver.virtio.VirtioTransport}
 * on top, emulating status, config space and the control queue as QEMU and DPDK do. With {@code packed_vq=1} it
 * offers VIRTIO_F_RING_PACKED when the backend does, and the rings are {@link io.jnic.driver.virtio.PackedVirtqueue}s
 * (SET_VRING_ADDR: ring, driver area, device area; SET_VRING_BASE: position | wrap counter << 15). VIRTIO_F_IN_ORDER
 * is offered when the backend does (DPDK's does) unless {@code in_order=0}, DPDK's devarg and default.
 *
 * <p>A backend's bad reply (wrong request code, flags or version, a size that lies, cut short, a ring other than
 * the one asked for) or bytes waiting before a request (a duplicate or unsolicited message, which vhost-user
 * gives no way to tell from the next reply) cost the connection: the call throws naming it, later calls fail at
 * once, {@link io.jnic.driver.virtio.vhost.VhostUserClient#refusedReplies()} counts them. A REPLY_ACK refusal
 * (non-zero status) is an error of that request only. Every wait for a reply is bounded. Tested against a
 * hostile backend ({@code VhostUserClientFuzzTest}, seeded) and DPDK's.
 *
 * <p>Known limits: DPDK 22.11's backend answers GET_QUEUE_NUM with its library maximum (128), not with its
 * port's queue count, so asking for more pairs than {@code net_vhost0,queues=} leaves the extra pairs
 * unserved instead of failing; segments added to the group after start are not declared to the backend; a
 * backend that restarts takes the link down and the next control call fails with a message, and the port
 * must be reopened (no automatic reconnection).
 */
package io.jnic.driver.virtio.vhost;
