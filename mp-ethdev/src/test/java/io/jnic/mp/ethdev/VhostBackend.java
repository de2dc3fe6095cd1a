package io.jnic.mp.ethdev;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * DPDK's testpmd as the vhost-user backend of a virtio_user port ({@code net_vhost0}, macswap: every frame goes
 * back on the queue pair it came in on, source and destination MAC swapped). Tests skip when it is not installed.
 */
final class VhostBackend implements AutoCloseable {
    static final String INSTALL = "apt-get install -y dpdk dpdk-dev";
    private final Process process;
    final Path socket;
    private final Path log;

    private VhostBackend(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    static Path binary() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "dpdk-testpmd");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    static VhostBackend start(Path dir, int queues) throws IOException, InterruptedException {
        assumeTrue(binary() != null, "dpdk-testpmd not found on PATH: install DPDK (" + INSTALL + ")");
        Path sock = dir.resolve("vhost.sock");
        Path log = dir.resolve("testpmd.log");
        List<String> cmd = List.of(binary().toString(), "-l", "0-1", "--no-pci", "--no-huge", "-m", "256",
                "--file-prefix=jnicmpv" + ProcessHandle.current().pid() + "_" + dir.getFileName(),
                "--vdev", "net_vhost0,iface=" + sock + ",queues=" + queues, "--", "--forward-mode=macswap",
                "--port-topology=loop", "--rxq=" + queues, "--txq=" + queues, "--nb-cores=1",
                "--total-num-mbufs=8192", "--disable-link-check");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        VhostBackend b = new VhostBackend(p, sock, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(sock)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                b.close();
                throw new IllegalStateException("testpmd did not create " + sock + ":\n" + b.log());
            }
            Thread.sleep(20);
        }
        return b;
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        try {
            process.getOutputStream().close(); // testpmd quits at the end of its stdin
        } catch (IOException ignored) {
            // gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
