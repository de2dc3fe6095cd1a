package io.jnic.driver.virtio;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * DPDK's testpmd as a vhost-user backend ({@code net_vhost0}) for interop tests: its own temp dir and file
 * prefix, --no-huge (its memory is only for its own mbufs: the rings and frames it reads are ours, mapped from
 * the fds we send), two lcores. Tests skip when dpdk-testpmd is not installed.
 */
public final class Testpmd implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    public static final String INSTALL = "apt-get install -y dpdk dpdk-dev";

    private final Process process;
    private final Path socket;
    private final Path log;

    private Testpmd(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    public static Path binary() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "dpdk-testpmd");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    public static void assumeInstalled() {
        assumeTrue(binary() != null, "dpdk-testpmd not found on PATH: install DPDK (" + INSTALL + ")");
    }

    /** Starts a backend on {@code dir/vhost.sock} with {@code queues} pairs forwarding in {@code mode}. */
    public static Testpmd start(Path dir, int queues, String mode) throws IOException, InterruptedException {
        return start(dir, queues, mode, "");
    }

    /**
     * As {@link #start(Path, int, String)} with more net_vhost devargs ({@code vdevArgs}, e.g. ",tso=1") and more
     * testpmd options after the defaults.
     */
    public static Testpmd start(Path dir, int queues, String mode, String vdevArgs, String... options)
            throws IOException, InterruptedException {
        assumeInstalled();
        Path sock = dir.resolve("vhost.sock");
        Path log = dir.resolve("testpmd-" + COUNTER.incrementAndGet() + ".log");
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "-l", "0-1", "--no-pci", "--no-huge",
                "-m", "256", "--file-prefix=jnicvt" + ProcessHandle.current().pid() + "_" + COUNTER.get(),
                "--vdev", "net_vhost0,iface=" + sock + ",queues=" + queues + vdevArgs, "--",
                "--forward-mode=" + mode, "--port-topology=loop", "--rxq=" + queues, "--txq=" + queues,
                "--nb-cores=1", "--total-num-mbufs=8192", "--disable-link-check"));
        cmd.addAll(List.of(options));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Testpmd t = new Testpmd(p, sock, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(sock)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                t.close();
                throw new IllegalStateException("testpmd did not create " + sock + ":\n" + t.log());
            }
            Thread.sleep(20);
        }
        return t;
    }

    public Path socket() {
        return socket;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Ends testpmd (closing its stdin makes it quit cleanly; SIGTERM/SIGKILL if it does not). */
    @Override
    public void close() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
