package io.jnic.driver.virtio;

import java.util.function.IntFunction;

/**
 * The device-independent initialization sequence (virtio 1.x, 3.1.1) over any {@link VirtioTransport}: reset,
 * ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK (and the check that the device kept it), queue setup by
 * the device driver, DRIVER_OK; FAILED when the driver gives up. Over a {@link VirtioTransport#legacy() legacy}
 * transport the FEATURES_OK step is left out (3.1.2 "Legacy Interface: Device Initialization").
 */
public final class VirtioDevice {
    private static final System.Logger LOG = System.getLogger(VirtioDevice.class.getName());

    private final VirtioTransport transport;
    private final IntFunction<String> featureNames;
    private long deviceFeatures;
    private long negotiated;

    public VirtioDevice(VirtioTransport transport, IntFunction<String> featureNames) {
        this.transport = transport;
        this.featureNames = featureNames;
    }

    public VirtioTransport transport() {
        return transport;
    }

    /**
     * Steps 1-6 of 3.1.1: reset, ACKNOWLEDGE, DRIVER, read the device's features, accept
     * {@code device & wanted}, FEATURES_OK, re-read status.
     *
     * @param required features without which the driver cannot work (checked before anything is written)
     * @param wanted   features the driver can use (a superset of {@code required})
     * @return the negotiated features
     * @throws VirtioException naming the missing features, or saying that the device refused the subset
     */
    public long negotiate(long required, long wanted) {
        transport.status(0);
        int s = transport.status();
        if (s != 0) {
            throw new VirtioException(transport.name() + ": the device did not reset (status reads "
                    + Virtio.describeStatus(s) + " after writing 0)");
        }
        transport.status(Virtio.STATUS_ACKNOWLEDGE);
        transport.status(Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        deviceFeatures = transport.deviceFeatures();
        long missing = required & ~deviceFeatures;
        if (missing != 0) {
            fail();
            throw new VirtioException(transport.name() + ": the device lacks required features "
                    + Virtio.describe(missing, featureNames) + " (it offers " + Virtio.describe(deviceFeatures, featureNames)
                    + ")" + (Virtio.has(missing, Virtio.F_VERSION_1)
                            ? "; jnic drives virtio 1.x devices only: use a modern device (QEMU: disable-legacy=on or"
                                    + " a current vhost-user backend)" : ""));
        }
        negotiated = deviceFeatures & wanted;
        transport.driverFeatures(negotiated);
        if (transport.legacy()) {
            LOG.log(System.Logger.Level.DEBUG, () -> transport.name() + ": negotiated (legacy) "
                    + Virtio.describe(negotiated, featureNames));
            return negotiated;
        }
        transport.status(Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        s = transport.status();
        if ((s & Virtio.STATUS_FEATURES_OK) == 0) {
            fail();
            throw new VirtioException(transport.name() + ": the device refused the features "
                    + Virtio.describe(negotiated, featureNames) + " (FEATURES_OK did not stick, status "
                    + Virtio.describeStatus(s) + ")");
        }
        LOG.log(System.Logger.Level.DEBUG, () -> transport.name() + ": negotiated "
                + Virtio.describe(negotiated, featureNames));
        return negotiated;
    }

    /** Step 8: the driver is set up; the device may now use the queues. */
    public void driverOk() {
        transport.status(Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER
                | (transport.legacy() ? 0 : Virtio.STATUS_FEATURES_OK) | Virtio.STATUS_DRIVER_OK);
        int s = transport.status();
        if ((s & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0) {
            fail();
            throw new VirtioException(transport.name() + ": the device needs a reset right after DRIVER_OK (status "
                    + Virtio.describeStatus(s) + ")");
        }
    }

    /** Sets FAILED (3.1.1 step on giving up); ignores a transport that is already gone. */
    public void fail() {
        try {
            transport.status(transport.status() | Virtio.STATUS_FAILED);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not set FAILED on " + transport.name(), e);
        }
    }

    /** True when the device set DEVICE_NEEDS_RESET (2.1.1: the driver must reset it before using it again). */
    public boolean needsReset() {
        return (transport.status() & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
    }

    public long deviceFeatures() {
        return deviceFeatures;
    }

    public long features() {
        return negotiated;
    }

    public boolean has(int feature) {
        return Virtio.has(negotiated, feature);
    }

    /** Reads configuration consistently: repeats {@code read} until the generation is stable (4.1.4.3.2). */
    public <T> T readConfigConsistently(java.util.function.Supplier<T> read) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int before = transport.configGeneration();
            T v = read.get();
            if (transport.configGeneration() == before) {
                return v;
            }
        }
        throw new VirtioException(transport.name() + ": configuration kept changing while being read");
    }
}
