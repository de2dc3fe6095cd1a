package io.jnic.bench.multiproc;

import io.jnic.multiproc.ipc.IpcChannel;
import io.jnic.multiproc.ipc.IpcMessage;
import io.jnic.multiproc.ipc.IpcReply;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.HdrHistogram.Histogram;

/**
 * Round-trip latency of a synchronous IPC request (secondary -> primary -> reply) over real UNIX datagram
 * sockets, both channels in this JVM. Not JMH: one latency distribution, recorded with HdrHistogram.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     io.jnic.bench.multiproc.IpcRoundTrip [iterations] [results file]
 * </pre>
 * Writes p50/p90/p99/p99.9/max in microseconds to the results file (default
 * bench/results/ipc-roundtrip.txt) and to stdout.
 */
public final class IpcRoundTrip {
    private IpcRoundTrip() {
    }

    public static void main(String[] args) throws IOException {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        Path out = Path.of(args.length > 1 ? args[1] : "bench/results/ipc-roundtrip.txt");
        Path dir = Files.createTempDirectory("jnic-ipc-bench",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Histogram h = new Histogram(Duration.ofSeconds(10).toNanos(), 3);
        try (IpcChannel primary = IpcChannel.primary(dir); IpcChannel secondary = IpcChannel.secondary(dir)) {
            primary.register("ping", (m, peer) -> primary.reply(peer, m));
            IpcMessage ping = new IpcMessage("ping", new byte[64]);
            int warmup = Math.max(1000, iterations / 5);
            for (int i = 0; i < warmup + iterations; i++) {
                long t0 = System.nanoTime();
                IpcReply r = secondary.requestSync(ping, Duration.ofSeconds(5));
                long t = System.nanoTime() - t0;
                if (r.nbReceived() != 1) {
                    throw new IllegalStateException("request " + i + " got no reply within 5 s");
                }
                if (i >= warmup) {
                    h.recordValue(t);
                }
            }
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        String report = String.format("# IPC sync request round trip, 64-byte param, same host, %s%n"
                + "# java %s, %d iterations after warm-up%n"
                + "p50_us %.1f%np90_us %.1f%np99_us %.1f%np99.9_us %.1f%nmax_us %.1f%n",
                Instant.now(), Runtime.version(), h.getTotalCount(),
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
        PrintStream o = System.out;
        o.print(report);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Files.writeString(out, report);
    }
}
