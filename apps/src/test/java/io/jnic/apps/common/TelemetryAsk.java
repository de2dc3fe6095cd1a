package io.jnic.apps.common;

import io.jnic.sys.Events;
import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import io.jnic.sys.UnixMessage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** One telemetry v2 request to a process's socket (what dpdk-telemetry.py does, in the test's JVM). */
public final class TelemetryAsk {
    private TelemetryAsk() {
    }

    /** The reply to {@code cmd} from the server on {@code socket}. */
    public static String ask(Path socket, String cmd) {
        int fd = Sockets.socket(Sockets.SOCK_SEQPACKET);
        try (UnixMessage m = new UnixMessage(64 * 1024, 0)) {
            Sockets.connect(fd, UnixAddress.of(socket));
            receive(fd, m); // the greeting
            byte[] b = cmd.getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(b, 0, m.data(), ValueLayout.JAVA_BYTE, 0, b.length);
            m.send(fd, b.length, null, null, 0, 0);
            return receive(fd, m);
        } finally {
            Io.closeQuietly(fd);
        }
    }

    private static String receive(int fd, UnixMessage m) {
        if (!Events.pollIn(fd, 30_000)) {
            throw new AssertionError("no telemetry answer from " + fd + " within 30 s");
        }
        long n = m.receive(fd, UnixMessage.MSG_DONTWAIT);
        return new String(m.data().asSlice(0, Math.max(0, n)).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
