package io.jnic.multiproc.ipc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * Test-only sendmsg(2) that attaches explicit SCM_CREDENTIALS: root may claim any uid, which is how the
 * tests make a datagram look like it came from another user.
 */
final class RawSender {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SENDMSG = LINKER.downcallHandle(LINKER.defaultLookup().find("sendmsg").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private RawSender() {
    }

    /** Sends {@code data} to {@code path} from {@code socket}, claiming pid/uid/gid; returns sendmsg's result. */
    static long sendWithCredentials(int socket, String path, byte[] data, int pid, int uid, int gid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(110, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(p, 0, addr, ValueLayout.JAVA_BYTE, 2, p.length);
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, data.length);
            MemorySegment control = arena.allocate(32, 8); // cmsghdr(16) + ucred(12), aligned to 8
            control.set(ValueLayout.JAVA_LONG, 0, 16 + 12);
            control.set(ValueLayout.JAVA_INT, 8, 1); // SOL_SOCKET
            control.set(ValueLayout.JAVA_INT, 12, 2); // SCM_CREDENTIALS
            control.set(ValueLayout.JAVA_INT, 16, pid);
            control.set(ValueLayout.JAVA_INT, 20, uid);
            control.set(ValueLayout.JAVA_INT, 24, gid);
            MemorySegment hdr = arena.allocate(56, 8);
            hdr.set(ValueLayout.ADDRESS, 0, addr);
            hdr.set(ValueLayout.JAVA_INT, 8, 2 + p.length + 1);
            hdr.set(ValueLayout.ADDRESS, 16, iov);
            hdr.set(ValueLayout.JAVA_LONG, 24, 1L);
            hdr.set(ValueLayout.ADDRESS, 32, control);
            hdr.set(ValueLayout.JAVA_LONG, 40, 32L);
            return (long) SENDMSG.invokeExact(socket, hdr, 0);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
