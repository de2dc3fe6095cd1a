package io.jnic.driver.virtio;

/** A virtio device or transport refused, broke a rule of the spec, or went away; the message says what to do. */
public class VirtioException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VirtioException(String message) {
        super(message);
    }

    public VirtioException(String message, Throwable cause) {
        super(message, cause);
    }
}
