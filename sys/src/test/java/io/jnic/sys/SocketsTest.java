package io.jnic.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketsTest {
    @TempDir
    Path dir;

    @Test
    void descriptorPassedOverASocketpairReadsTheSameFile() {
        int[] sv = Sockets.socketpair(Sockets.SOCK_SEQPACKET);
        int memfd = Mman.memfdCreate("passed", Mman.MFD_CLOEXEC);
        try (UnixMessage out = new UnixMessage(64, 8); UnixMessage in = new UnixMessage(64, 8);
                Arena arena = Arena.ofConfined()) {
            MemorySegment content = arena.allocate(8);
            content.set(ValueLayout.JAVA_LONG, 0, 0x5EED5EEDL);
            Io.pwrite(memfd, content, 8, 0);
            out.data().set(ValueLayout.JAVA_INT, 0, 1234);
            assertEquals(4, out.send(sv[0], 4, null, new int[] {memfd}, 1, 0));
            assertEquals(4, in.receive(sv[1], 0));
            assertEquals(1234, in.data().get(ValueLayout.JAVA_INT, 0));
            assertEquals(1, in.fdCount());
            int received = in.fd(0);
            assertNotEquals(memfd, received, "a new descriptor in this process");
            MemorySegment back = arena.allocate(8);
            assertEquals(8, Io.pread(received, back, 8, 0));
            assertEquals(0x5EED5EEDL, back.get(ValueLayout.JAVA_LONG, 0));
            assertTrue((Io.fcntl(received, Io.F_GETFD, 0) & Io.FD_CLOEXEC) != 0, "received fds are close-on-exec");
            Io.close(received);
        } finally {
            Io.close(memfd);
            Io.close(sv[0]);
            Io.close(sv[1]);
        }
    }

    @Test
    void eightDescriptorsInOneMessage() {
        int[] sv = Sockets.socketpair(Sockets.SOCK_DGRAM);
        int[] fds = new int[8];
        for (int i = 0; i < 8; i++) {
            fds[i] = Events.eventfd(i, Events.EFD_CLOEXEC | Events.EFD_NONBLOCK);
        }
        try (UnixMessage out = new UnixMessage(16, 8); UnixMessage in = new UnixMessage(16, 8)) {
            out.send(sv[0], 1, null, fds, 8, 0);
            in.receive(sv[1], 0);
            assertEquals(8, in.fdCount());
            for (int i = 1; i < 8; i++) {
                assertEquals(i, Events.eventfdRead(in.fd(i)), "eventfd " + i + " carries its counter");
            }
            in.closeReceivedFds();
        } finally {
            for (int fd : fds) {
                Io.close(fd);
            }
            Io.close(sv[0]);
            Io.close(sv[1]);
        }
    }

    @Test
    void datagramsBetweenBoundPathsCarryTheSendersCredentials() {
        UnixAddress a = UnixAddress.of(dir.resolve("a.sock"));
        UnixAddress b = UnixAddress.of(dir.resolve("b.sock"));
        int sa = Sockets.socket(Sockets.SOCK_DGRAM);
        int sb = Sockets.socket(Sockets.SOCK_DGRAM);
        try (UnixMessage out = new UnixMessage(32, 1); UnixMessage in = new UnixMessage(32, 1)) {
            Sockets.bind(sa, a);
            Sockets.bind(sb, b);
            Sockets.setIntOption(sb, Sockets.SOL_SOCKET, Sockets.SO_PASSCRED, 1);
            assertEquals(1, Sockets.getIntOption(sb, Sockets.SOL_SOCKET, Sockets.SO_PASSCRED));
            out.data().set(ValueLayout.JAVA_LONG, 0, 77L);
            out.send(sa, 8, b, null, 0, 0);
            assertEquals(8, in.receive(sb, 0));
            assertTrue(in.hasCredentials());
            assertEquals(Proc.getpid(), in.senderPid());
            assertEquals(Proc.getuid(), in.senderUid());
            assertEquals(a.path(), in.senderPath());
            assertEquals(-1, in.receive(sb, UnixMessage.MSG_DONTWAIT), "nothing more queued");
        } finally {
            Io.close(sa);
            Io.close(sb);
        }
    }

    @Test
    void anOversizedDatagramIsFlaggedTruncated() {
        int[] sv = Sockets.socketpair(Sockets.SOCK_DGRAM);
        try (UnixMessage out = new UnixMessage(256, 0); UnixMessage in = new UnixMessage(16, 0)) {
            out.send(sv[0], 256, null, null, 0, 0);
            assertEquals(16, in.receive(sv[1], 0));
            assertTrue(in.truncated());
        } finally {
            Io.close(sv[0]);
            Io.close(sv[1]);
        }
    }

    @Test
    void streamListenerAcceptsAndKnowsItsPeer() {
        UnixAddress addr = UnixAddress.of(dir.resolve("listen.sock"));
        int listener = Sockets.socket(Sockets.SOCK_STREAM | Sockets.SOCK_NONBLOCK);
        int client = Sockets.socket(Sockets.SOCK_STREAM);
        int conn = -1;
        try {
            Sockets.bind(listener, addr);
            Sockets.listen(listener, 4);
            assertEquals(-1, Sockets.accept(listener), "no client yet");
            Sockets.connect(client, addr);
            assertTrue(Events.pollIn(listener, 2000));
            conn = Sockets.accept(listener);
            Ucred peer = Sockets.peerCredentials(conn);
            assertEquals(new Ucred(Proc.getpid(), Proc.getuid(), peer.gid()), peer);
            Sockets.shutdown(client, Sockets.SHUT_RDWR);
        } finally {
            Io.closeQuietly(conn);
            Io.close(client);
            Io.close(listener);
        }
    }

    @Test
    void connectToAMissingSocketNamesIt() {
        int s = Sockets.socket(Sockets.SOCK_DGRAM);
        try {
            UnixAddress missing = UnixAddress.of(dir.resolve("nobody.sock"));
            SysException e = assertThrows(SysException.class, () -> Sockets.connect(s, missing));
            assertEquals(Errno.ENOENT, e.errno());
            assertTrue(e.getMessage().contains(missing.path()), e.getMessage());
        } finally {
            Io.close(s);
        }
    }

    @Test
    void tooLongAPathIsRefusedWithAHint() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UnixAddress.of(dir.resolve("x".repeat(120))));
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
    }

    @Test
    void abstractNamesNeedNoFile() {
        UnixAddress name = UnixAddress.abstractName("jnic-test-" + Proc.getpid());
        int s = Sockets.socket(Sockets.SOCK_DGRAM);
        try {
            Sockets.bind(s, name);
            assertFalse(java.nio.file.Files.exists(Path.of(name.path())));
        } finally {
            Io.close(s);
        }
    }
}
