package io.jnic.driver.virtio;

import java.util.StringJoiner;

/**
 * Device-independent virtio constants (Virtual I/O Device Specification 1.2, "virtio 1.x" below): device status
 * bits (2.1) and the reserved feature bits (6), with names for messages.
 */
public final class Virtio {
    // 2.1 Device Status Field
    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_DEVICE_NEEDS_RESET = 64;
    public static final int STATUS_FAILED = 128;

    // 6 Reserved Feature Bits (bit numbers)
    public static final int F_NOTIFY_ON_EMPTY = 24; // legacy
    public static final int F_ANY_LAYOUT = 27; // legacy
    public static final int F_INDIRECT_DESC = 28;
    public static final int F_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;
    public static final int F_ACCESS_PLATFORM = 33;
    public static final int F_RING_PACKED = 34;
    public static final int F_IN_ORDER = 35;
    public static final int F_ORDER_PLATFORM = 36;
    public static final int F_SR_IOV = 37;
    public static final int F_NOTIFICATION_DATA = 38;

    /** vhost-user: the backend speaks GET/SET_PROTOCOL_FEATURES (not a virtio bit; lives in bit 30). */
    public static final int VHOST_USER_F_PROTOCOL_FEATURES = 30;

    /** virtio 1.x device ids (5) */
    public static final int DEVICE_ID_NET = 1;

    private Virtio() {
    }

    public static long bit(int feature) {
        return 1L << feature;
    }

    public static boolean has(long features, int feature) {
        return (features & (1L << feature)) != 0;
    }

    /** Names of the device-independent bits, "bit N" for the others. */
    public static String featureName(int bit) {
        return switch (bit) {
            case F_NOTIFY_ON_EMPTY -> "NOTIFY_ON_EMPTY";
            case F_ANY_LAYOUT -> "ANY_LAYOUT";
            case F_INDIRECT_DESC -> "RING_INDIRECT_DESC";
            case F_EVENT_IDX -> "RING_EVENT_IDX";
            case VHOST_USER_F_PROTOCOL_FEATURES -> "PROTOCOL_FEATURES(vhost-user)";
            case F_VERSION_1 -> "VERSION_1";
            case F_ACCESS_PLATFORM -> "ACCESS_PLATFORM";
            case F_RING_PACKED -> "RING_PACKED";
            case F_IN_ORDER -> "IN_ORDER";
            case F_ORDER_PLATFORM -> "ORDER_PLATFORM";
            case F_SR_IOV -> "SR_IOV";
            case F_NOTIFICATION_DATA -> "NOTIFICATION_DATA";
            default -> "bit " + bit;
        };
    }

    /** "VERSION_1|RING_EVENT_IDX|..." using {@code names} for device-specific bits. */
    public static String describe(long features, java.util.function.IntFunction<String> names) {
        StringJoiner j = new StringJoiner("|");
        for (int b = 0; b < 64; b++) {
            if (has(features, b)) {
                j.add(names.apply(b));
            }
        }
        return features == 0 ? "none" : j.toString();
    }

    public static String describeStatus(int status) {
        StringJoiner j = new StringJoiner("|");
        if ((status & STATUS_ACKNOWLEDGE) != 0) j.add("ACKNOWLEDGE");
        if ((status & STATUS_DRIVER) != 0) j.add("DRIVER");
        if ((status & STATUS_FEATURES_OK) != 0) j.add("FEATURES_OK");
        if ((status & STATUS_DRIVER_OK) != 0) j.add("DRIVER_OK");
        if ((status & STATUS_DEVICE_NEEDS_RESET) != 0) j.add("DEVICE_NEEDS_RESET");
        if ((status & STATUS_FAILED) != 0) j.add("FAILED");
        return status == 0 ? "0 (reset)" : j.toString();
    }
}
