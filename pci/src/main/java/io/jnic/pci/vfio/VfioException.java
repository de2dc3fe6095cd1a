package io.jnic.pci.vfio;

/** VFIO cannot be used for a device; the message says why and what to do about it. */
public final class VfioException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public VfioException(String message) {
        super(message);
    }

    public VfioException(String message, Throwable cause) {
        super(message, cause);
    }
}
