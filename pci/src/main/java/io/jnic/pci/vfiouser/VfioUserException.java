package io.jnic.pci.vfiouser;

import io.jnic.sys.Errno;

/**
 * A vfio-user exchange failed: the peer replied with an error, broke the protocol (bad length, wrong
 * message id, garbage), did not answer in time, or went away. The message names the command and what
 * was wrong; {@link #errno()} carries the errno of an error reply (0 otherwise).
 */
public final class VfioUserException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int command;
    private final int errno;

    public VfioUserException(int command, String message) {
        this(command, 0, message, null);
    }

    public VfioUserException(int command, String message, Throwable cause) {
        this(command, 0, message, cause);
    }

    public VfioUserException(int command, int errno, String message, Throwable cause) {
        super(command > 0 ? VfioUser.commandName(command) + ": " + message : message, cause);
        this.command = command;
        this.errno = errno;
    }

    /** For {@code command} with a message that already names it. */
    static VfioUserException named(int command, String fullMessage) {
        return new VfioUserException(command, fullMessage, true);
    }

    private VfioUserException(int command, String fullMessage, boolean named) {
        super(fullMessage);
        this.command = command;
        this.errno = 0;
    }

    /** The command being exchanged (0 when none was). */
    public int command() {
        return command;
    }

    /** The errno of the peer's error reply; 0 when the failure was not an error reply. */
    public int errnoValue() {
        return errno;
    }

    public Errno errno() {
        return Errno.of(errno);
    }
}
