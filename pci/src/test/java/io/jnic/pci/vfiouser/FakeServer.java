package io.jnic.pci.vfiouser;

import io.jnic.sys.Io;
import io.jnic.sys.Sockets;
import io.jnic.sys.UnixAddress;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A scripted server for failure tests: answers VERSION and DEVICE_GET_INFO correctly (a PCI device with no
 * regions and 5 IRQ types, so a client connects), acknowledges DMA_MAP, and hands every other request to
 * the test's {@link Script}, which may misbehave at will.
 */
final class FakeServer implements AutoCloseable {
    interface Script {
        void handle(VfioUserChannel channel, VfioUserMessage in) throws Exception;
    }

    private final Path path;
    private final int listenFd;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final java.util.concurrent.ConcurrentLinkedQueue<Pushed> pushed = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** Something the server thread does on its own, between client requests (e.g. a DMA_READ of its own). */
    interface Action {
        Object run(VfioUserChannel channel) throws Exception;
    }

    private record Pushed(Action action, java.util.concurrent.CompletableFuture<Object> done) {
    }
    private volatile boolean running = true;

    FakeServer(Path path, Script script) {
        this(path, 0, script);
    }

    /** A server whose device claims {@code regions} regions (their info requests go to the script). */
    FakeServer(Path path, int regions, Script script) {
        this.path = path;
        listenFd = Sockets.socket(Sockets.SOCK_STREAM);
        Sockets.bind(listenFd, UnixAddress.of(path));
        Sockets.listen(listenFd, 1);
        thread = Thread.ofPlatform().daemon().name("fake vfio-user server").start(() -> {
            int fd = Sockets.accept(listenFd);
            try (VfioUserChannel ch = new VfioUserChannel(fd, 1 << 16, 8, 500)) {
                while (running && !ch.isClosed()) {
                    for (Pushed p; (p = pushed.poll()) != null; ) {
                        try {
                            p.done().complete(p.action().run(ch));
                        } catch (Throwable t) {
                            p.done().completeExceptionally(t);
                        }
                    }
                    int r = ch.receive(20);
                    if (r == VfioUserChannel.END_OF_STREAM) {
                        return;
                    }
                    if (r == VfioUserChannel.NOTHING) {
                        continue;
                    }
                    VfioUserMessage in = ch.in();
                    switch (in.command()) {
                        case VfioUser.CMD_VERSION -> {
                            new Capabilities(8, 1 << 16).write(ch.out(), in.msgId(), VfioUser.FLAG_TYPE_REPLY);
                            send(ch);
                        }
                        case VfioUser.CMD_DEVICE_GET_INFO -> {
                            VfioUserMessage out = ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 16);
                            out.putU32(0, 16);
                            out.putU32(4, VfioUser.DEVICE_FLAGS_PCI | VfioUser.DEVICE_FLAGS_RESET);
                            out.putU32(8, regions);
                            out.putU32(12, VfioUser.PCI_NUM_IRQS);
                            send(ch);
                        }
                        case VfioUser.CMD_DMA_MAP -> {
                            ch.out().begin(in.msgId(), in.command(), VfioUser.FLAG_TYPE_REPLY, 0);
                            send(ch);
                        }
                        default -> script.handle(ch, in);
                    }
                }
            } catch (Throwable t) {
                if (running) {
                    failure.set(t);
                }
            }
        });
    }

    static void send(VfioUserChannel ch) {
        ch.send(null, 0, System.nanoTime() + 1_000_000_000L);
    }

    /** A correct IRQ_INFO reply (index echoed, 4 vectors). */
    static void irqInfoReply(VfioUserChannel ch, VfioUserMessage in) {
        irqInfoReply(ch, in.msgId(), in.u32(VfioUserLayout.IrqInfo.INDEX));
    }

    static void irqInfoReply(VfioUserChannel ch, int msgId, int index) {
        VfioUserMessage out = ch.out().begin(msgId, VfioUser.CMD_DEVICE_GET_IRQ_INFO, VfioUser.FLAG_TYPE_REPLY, 16);
        out.putU32(VfioUserLayout.IrqInfo.ARGSZ, 16);
        out.putU32(VfioUserLayout.IrqInfo.FLAGS, VfioUser.IRQ_INFO_EVENTFD);
        out.putU32(VfioUserLayout.IrqInfo.INDEX, index);
        out.putU32(VfioUserLayout.IrqInfo.COUNT, 4);
        send(ch);
    }

    /** Runs {@code action} on the server thread while the client is idle; returns what it returns (bounded wait). */
    Object push(Action action) throws Exception {
        java.util.concurrent.CompletableFuture<Object> done = new java.util.concurrent.CompletableFuture<>();
        pushed.add(new Pushed(action, done));
        try {
            return done.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    Path path() {
        return path;
    }

    /** Rethrows what went wrong on the server thread, if anything. */
    void check() {
        if (failure.get() != null) {
            throw new AssertionError("fake server failed", failure.get());
        }
    }

    @Override
    public void close() {
        Sockets.shutdown(listenFd, Sockets.SHUT_RDWR);
        Io.close(listenFd);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        check();
    }
}
