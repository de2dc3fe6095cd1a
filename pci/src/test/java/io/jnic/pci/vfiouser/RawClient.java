package io.jnic.pci.vfiouser;

import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import java.nio.file.Path;
import java.util.function.Consumer;

/** A hand-driven client for server tests: sends whatever it is told, including garbage. */
final class RawClient implements AutoCloseable {
    final VfioUserChannel channel;
    private int nextId = 1;

    RawClient(Path path, int maxFds) {
        int fd = Sockets.socket(Sockets.SOCK_STREAM);
        Sockets.connect(fd, UnixAddress.of(path));
        channel = new VfioUserChannel(fd, 1 << 16, maxFds, 500);
    }

    RawClient(Path path) {
        this(path, 8);
    }

    /** Negotiates the version as a well-behaved client would. */
    RawClient negotiated() {
        new Capabilities(8, 1 << 16).write(channel.out(), nextId++, VfioUser.FLAG_TYPE_COMMAND);
        channel.send(null, 0, deadline());
        VfioUserMessage in = reply();
        if (in.isError()) {
            throw new AssertionError("version refused: " + in.error());
        }
        return this;
    }

    void send(int command, int flags, int payloadLength, Consumer<VfioUserMessage> fill, int... fds) {
        VfioUserMessage out = channel.out().begin(nextId++, command, flags, payloadLength);
        fill.accept(out);
        channel.send(fds, fds.length, deadline());
    }

    /** Sends a command and returns its reply. */
    VfioUserMessage call(int command, int payloadLength, Consumer<VfioUserMessage> fill, int... fds) {
        send(command, VfioUser.FLAG_TYPE_COMMAND, payloadLength, fill, fds);
        return reply();
    }

    VfioUserMessage reply() {
        int r = channel.receive(2000);
        if (r != VfioUserChannel.RECEIVED) {
            throw new AssertionError("no reply: " + (r == VfioUserChannel.END_OF_STREAM ? "connection closed" : "timeout"));
        }
        return channel.in();
    }

    /** True when the server closed the connection (within 2 s). */
    boolean closedByServer() {
        return channel.receive(2000) == VfioUserChannel.END_OF_STREAM;
    }

    private static long deadline() {
        return System.nanoTime() + 2_000_000_000L;
    }

    @Override
    public void close() {
        channel.close();
    }
}
