package io.jnic.multiproc;

/** The runtime cannot start or attach; the message says why and what to do. */
public final class MpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MpException(String message) {
        super(message);
    }

    public MpException(String message, Throwable cause) {
        super(message, cause);
    }
}
