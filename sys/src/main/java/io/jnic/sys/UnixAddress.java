package io.jnic.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A struct sockaddr_un, built once and reused for every send to or bind on that address. */
public final class UnixAddress {
    /** sizeof(sun_path): the path with its terminating NUL must fit. */
    public static final int PATH_CAPACITY = 108;
    static final int SIZE = 2 + PATH_CAPACITY;
    private static final short AF_UNIX = 1;

    private final String path;
    private final MemorySegment sockaddr;
    private final int length;

    private UnixAddress(String path, byte[] bytes, boolean abstractName) {
        if (bytes.length + 1 > PATH_CAPACITY) {
            throw new IllegalArgumentException("UNIX socket path too long (" + bytes.length + " bytes, at most "
                    + (PATH_CAPACITY - 1) + "): " + path + " — use a shorter runtime or socket directory");
        }
        this.path = path;
        this.sockaddr = Arena.ofAuto().allocate(SIZE, 2);
        sockaddr.set(Native.C_SHORT, 0, AF_UNIX);
        int off = abstractName ? 3 : 2; // abstract names start with a NUL byte
        MemorySegment.copy(bytes, 0, sockaddr, java.lang.foreign.ValueLayout.JAVA_BYTE, off, bytes.length);
        this.length = abstractName ? 3 + bytes.length : 2 + bytes.length + 1;
    }

    public static UnixAddress of(Path path) {
        String s = path.toString();
        return new UnixAddress(s, s.getBytes(StandardCharsets.UTF_8), false);
    }

    /** An address in the abstract namespace (no file; gone with the last socket bound to it). */
    public static UnixAddress abstractName(String name) {
        return new UnixAddress("@" + name, name.getBytes(StandardCharsets.UTF_8), true);
    }

    public String path() {
        return path;
    }

    MemorySegment segment() {
        return sockaddr;
    }

    int length() {
        return length;
    }

    /** Reads a sockaddr_un filled in by the kernel (recvmsg, accept) into a printable path. */
    static String pathOf(MemorySegment sockaddr, int length) {
        if (length <= 2) {
            return "";
        }
        boolean abs = sockaddr.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 2) == 0;
        int start = abs ? 3 : 2;
        int end = start;
        while (end < length && end < SIZE && sockaddr.get(java.lang.foreign.ValueLayout.JAVA_BYTE, end) != 0) {
            end++;
        }
        byte[] b = sockaddr.asSlice(start, end - start).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        return (abs ? "@" : "") + new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return path;
    }
}
