package io.jnic.driver.virtio.net;

/**
 * Carries virtio-net control commands (5.1.6.5): the control virtqueue of a PCI device, or a vhost-user frontend
 * that handles them itself (vhost-user backends have no control queue; the frontend turns VQ_PAIRS_SET into
 * SET_VRING_ENABLE, as QEMU and DPDK's virtio-user do).
 */
public interface NetControl {
    /**
     * Sends command {@code cls}/{@code cmd} with {@code data[0..length)}; returns the device's ack
     * ({@link VirtioNetSpec#CTRL_OK} or {@link VirtioNetSpec#CTRL_ERR}).
     */
    int command(int cls, int cmd, byte[] data, int length);
}
