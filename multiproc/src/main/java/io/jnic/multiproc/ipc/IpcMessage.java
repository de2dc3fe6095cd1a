package io.jnic.multiproc.ipc;

import io.jnic.sys.Io;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One IPC message (rte_mp_msg): an action name, up to {@link #MAX_PARAM_LEN} bytes of parameters and up to
 * {@link #MAX_FDS} file descriptors. Descriptors of a received message belong to whoever receives it (the
 * action handler, or the caller of a request for its replies): close them with {@link #closeFds()} when
 * they are not kept.
 */
public final class IpcMessage {
    /** Longest action name in bytes (RTE_MP_MAX_NAME_LEN). Names are printable ASCII without spaces. */
    public static final int MAX_NAME_LEN = 64;
    /** Largest parameter block in bytes (RTE_MP_MAX_PARAM_LEN). */
    public static final int MAX_PARAM_LEN = 256;
    /** Most descriptors in one message (RTE_MP_MAX_FD_NUM). */
    public static final int MAX_FDS = 8;

    private static final byte[] NO_PARAM = new byte[0];
    private static final int[] NO_FDS = new int[0];

    private final String name;
    private final byte[] param;
    private final int[] fds;

    /** A message without parameters or descriptors. */
    public IpcMessage(String name) {
        this(name, NO_PARAM, NO_FDS);
    }

    /** A message; {@code param} and {@code fds} are copied. The descriptors are sent, not closed. */
    public IpcMessage(String name, byte[] param, int... fds) {
        checkName(name);
        if (param == null) {
            param = NO_PARAM;
        }
        if (param.length > MAX_PARAM_LEN) {
            throw new IllegalArgumentException("IPC message '" + name + "' has " + param.length
                    + " bytes of parameters; at most " + MAX_PARAM_LEN + " fit (pass larger data through a shared fd)");
        }
        if (fds == null) {
            fds = NO_FDS;
        }
        if (fds.length > MAX_FDS) {
            throw new IllegalArgumentException("IPC message '" + name + "' carries " + fds.length
                    + " descriptors; at most " + MAX_FDS + " fit in one message");
        }
        for (int fd : fds) {
            if (fd < 0) {
                throw new IllegalArgumentException("IPC message '" + name + "': descriptor " + fd + " is not valid");
            }
        }
        this.name = name;
        this.param = param.clone();
        this.fds = fds.clone();
    }

    /** Checks an action name: 1 to 64 bytes of printable ASCII without spaces. */
    public static void checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_LEN) {
            throw new IllegalArgumentException("IPC action name must be 1 to " + MAX_NAME_LEN + " characters: "
                    + (name == null ? "null" : "'" + name + "' has " + name.length()));
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("IPC action name '" + name + "' has character " + (int) c
                        + " at " + i + "; use printable ASCII without spaces");
            }
        }
    }

    public String name() {
        return name;
    }

    /** A copy of the parameter bytes. */
    public byte[] param() {
        return param.clone();
    }

    public int paramLength() {
        return param.length;
    }

    /** The parameters as a read-only little-endian buffer (the wire's byte order). */
    public ByteBuffer paramBuffer() {
        return ByteBuffer.wrap(param).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    public int fdCount() {
        return fds.length;
    }

    public int fd(int index) {
        if (index < 0 || index >= fds.length) {
            throw new IndexOutOfBoundsException("IPC message '" + name + "' has " + fds.length + " fds, no fd " + index);
        }
        return fds[index];
    }

    /** A copy of the descriptors. */
    public int[] fds() {
        return fds.clone();
    }

    /** Closes every descriptor of this message (received ones that are not kept). */
    public void closeFds() {
        for (int fd : fds) {
            Io.closeQuietly(fd);
        }
    }

    byte[] rawParam() {
        return param;
    }

    int[] rawFds() {
        return fds;
    }

    @Override
    public String toString() {
        return "IpcMessage[" + name + ", " + param.length + " param bytes, fds " + Arrays.toString(fds) + "]";
    }
}
