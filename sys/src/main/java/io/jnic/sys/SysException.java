package io.jnic.sys;

/**
 * A Linux call failed. The message names the call with the arguments that matter and the symbolic errno,
 * e.g. {@code open("/dev/vfio/7", O_RDWR) failed: ENOENT (No such file or directory)}.
 */
public final class SysException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errnoValue;

    public SysException(String call, int errnoValue) {
        super(call + " failed: " + Errno.of(errnoValue).name().replace("EUNKNOWN", "errno " + errnoValue)
                + " (" + Native.strerror(errnoValue) + ")");
        this.call = call;
        this.errnoValue = errnoValue;
    }

    /** The call and its arguments, as shown in the message. */
    public String call() {
        return call;
    }

    public Errno errno() {
        return Errno.of(errnoValue);
    }

    public int errnoValue() {
        return errnoValue;
    }
}
