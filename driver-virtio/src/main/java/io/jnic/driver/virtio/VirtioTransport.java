package io.jnic.driver.virtio;

/**
 * What carries a virtio device (virtio 1.x, 4 "Virtio Transport Options"): modern or legacy PCI, or a vhost-user
 * socket (virtio-user). {@link VirtioDevice} runs the initialization sequence over it; device drivers (virtio-net)
 * add queues and read device configuration through it. Control-path calls only; the data path uses the
 * {@link Notifier} each queue gets.
 */
public interface VirtioTransport extends AutoCloseable {
    /** For messages: the PCI address, or "virtio-user:path". */
    String name();

    /**
     * True for a legacy (pre-1.0) interface (virtio 1.x 4.1.4.8, legacy PCI): only feature bits 0-31, no
     * FEATURES_OK step, queue sizes fixed by the device, rings in the legacy layout
     * ({@link SplitVirtqueue#legacy}), guest-native (here little-endian) fields.
     */
    default boolean legacy() {
        return false;
    }

    /** The device's feature bits (read once the device was reset and acknowledged). */
    long deviceFeatures();

    /** Tells the device the subset the driver accepts (before FEATURES_OK). */
    void driverFeatures(long features);

    /** The device status byte (2.1). */
    int status();

    /**
     * Writes the device status; 0 resets the device. Transports that emulate status (vhost-user) carry out the
     * step here: FEATURES_OK sends the features, DRIVER_OK starts the queues.
     */
    void status(int status);

    /** Virtqueues the device offers (upper bound for queue indices). */
    int maxQueues();

    /** Largest size queue {@code queue} may have; 0 when the queue is not available. */
    int maxQueueSize(int queue);

    /**
     * Tells the device where queue {@code vq.index()} lives and how big it is, and enables it (for vhost-user the
     * ring is handed to the backend at DRIVER_OK). Returns how to notify the device about it.
     */
    Notifier setupQueue(SplitVirtqueue vq);

    /**
     * As {@link #setupQueue(SplitVirtqueue)} for either ring format; transports that cannot carry packed rings
     * (VIRTIO_F_RING_PACKED, which they then do not offer) refuse a {@link PackedVirtqueue}.
     */
    default Notifier setupQueue(Virtqueue vq) {
        if (vq instanceof SplitVirtqueue split) {
            return setupQueue(split);
        }
        throw new VirtioException(name() + ": this transport carries split virtqueues only, not " + vq);
    }

    /** Reads {@code width} (1, 2 or 4) bytes of device-specific configuration at {@code offset}, little-endian. */
    int readConfig(int offset, int width);

    /** The config generation counter (4.1.4.3: re-read the configuration if it changed meanwhile). */
    int configGeneration();

    /** An eventfd the device signals for queue {@code queue} (interrupt mode), or -1 when there is none. */
    int queueInterruptFd(int queue);

    /** An eventfd signalled on configuration changes (link status), or -1 when there is none. */
    int configInterruptFd();

    /** Releases everything (the device is reset first where the transport can do it). */
    @Override
    void close();

    /** Rings the device's doorbell for one queue (2.7.13.4). */
    interface Notifier {
        void notifyDevice();
    }
}
