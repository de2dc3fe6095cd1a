package io.jnic.pci;

/** Refusal to take a device this machine uses (active route, mounted disk); the message names them. */
public final class DeviceInUseException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final transient DeviceUsage.Usage usage;

    public DeviceInUseException(String action, DeviceUsage.Usage usage) {
        super("refusing to " + action + " " + usage.address() + ": " + String.join("; ", usage.reasons())
                + ". Taking it would cut this machine off from that; use --force only if you are sure.");
        this.usage = usage;
    }

    public DeviceUsage.Usage usage() {
        return usage;
    }
}
