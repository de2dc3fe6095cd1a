package io.jnic.driver.virtio.tools;

import io.jnic.driver.virtio.net.BufferOps;
import io.jnic.driver.virtio.net.VirtioNet;
import io.jnic.driver.virtio.net.VirtioNetRxQueue;
import io.jnic.driver.virtio.net.VirtioNetSpec;
import io.jnic.driver.virtio.net.VirtioNetTxQueue;
import io.jnic.driver.virtio.vhost.VirtioUserArgs;
import io.jnic.driver.virtio.vhost.VirtioUserTransport;
import io.jnic.memory.Hugepages;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.memory.Memzone;
import io.jnic.memory.PageSize;
import io.jnic.sys.Proc;
import io.jnic.sys.Sched;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The virtio-user side of bench/scripts/virtio-vs-dpdk.sh: testpmd's txonly and io forwarding over one jnic
 * virtio-user port, so that DPDK's own virtio-user frontend can be run against the same backend in the same
 * run. Prints one line per second ({@code tx-pps rx-pps}) and a median line at the end.
 *
 * <pre>
 *   VirtioUserPerf --vdev virtio_user0,path=SOCK --mode txonly|io [--seconds 10] [--burst 32] [--len 64]
 *                  [--cpu 1] [--no-huge] [--tx-first 256]
 * </pre>
 * txonly writes a 42-byte Ethernet/IPv4/UDP header into every frame before sending it, as testpmd's txonly does;
 * io sends {@code --tx-first} frames once, then returns every received frame on the same queue.
 *
 * <p>Until the mbuf pool is wired in (ethdev driver), frames come from a plain free stack over one memzone.
 */
public final class VirtioUserPerf {
    private VirtioUserPerf() {
    }

    public static void main(String[] argv) throws Exception {
        String vdev = null;
        String mode = "txonly";
        int seconds = 10;
        int burst = 32;
        int len = 64;
        int cpu = -1;
        boolean noHuge = false;
        int txFirst = 256;
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--vdev" -> vdev = argv[++i];
                case "--mode" -> mode = argv[++i];
                case "--seconds" -> seconds = Integer.parseInt(argv[++i]);
                case "--burst" -> burst = Integer.parseInt(argv[++i]);
                case "--len" -> len = Integer.parseInt(argv[++i]);
                case "--cpu" -> cpu = Integer.parseInt(argv[++i]);
                case "--no-huge" -> noHuge = true;
                case "--tx-first" -> txFirst = Integer.parseInt(argv[++i]);
                default -> {
                    System.err.println("unknown option " + argv[i]);
                    System.exit(2);
                }
            }
        }
        if (vdev == null || !(mode.equals("txonly") || mode.equals("io"))) {
            System.err.println("usage: VirtioUserPerf --vdev virtio_user0,path=SOCK --mode txonly|io [--seconds N]"
                    + " [--burst N] [--len N] [--cpu N] [--no-huge] [--tx-first N]");
            System.exit(2);
        }
        if (noHuge || Hugepages.available(PageSize.HUGE_2M) < 20) {
            noHuge = true;
        }
        Path run = Files.createTempDirectory("jnic-vperf");
        MemoryConfig.Builder b = MemoryConfig.builder().filePrefix("vperf" + Proc.getpid() + "_").runtimeDir(run)
                .iovaMode(IovaMode.ASSIGNED).size(32L << 20);
        if (noHuge) {
            b.noHuge();
        }
        try (MemoryGroup memory = MemoryGroup.create(b.build())) {
            VirtioUserArgs args = VirtioUserArgs.parse(vdev);
            int room = 2048;
            FrameStack frames = new FrameStack(memory.reserve("perf_frames", 8192L * room, 4096), room);
            VirtioUserTransport t = VirtioUserTransport.open(args, memory);
            try (VirtioNet net = VirtioNet.open(t, memory, frames,
                    new VirtioNet.Config("vperf", 1, args.queueSize(), true))) {
                if (cpu >= 0) {
                    BitSet set = new BitSet();
                    set.set(cpu);
                    Sched.setAffinity(0, set);
                }
                System.out.println("# jnic virtio-user " + mode + " burst " + burst + " len " + len + " features 0x"
                        + Long.toHexString(net.features()) + (noHuge ? " --no-huge" : " hugepages"));
                run(net.rx(0), net.tx(0), frames, mode.equals("txonly"), seconds, burst, len, txFirst);
            }
        }
    }

    private static void run(VirtioNetRxQueue rx, VirtioNetTxQueue tx, FrameStack frames, boolean txonly, int seconds,
            int burst, int len, int txFirst) {
        MemorySegment mem = frames.memory();
        byte[] header = udpHeader(len);
        MemorySegment tmpl = MemorySegment.ofArray(header);
        long[] tok = new long[burst];
        int[] lens = new int[burst];
        Arrays.fill(lens, len);
        if (!txonly) {
            int sent = 0;
            while (sent < txFirst) {
                int n = Math.min(burst, txFirst - sent);
                int got = 0;
                while (got < n) {
                    long f = frames.alloc();
                    if (f == 0) {
                        break;
                    }
                    MemorySegment.copy(tmpl, 0, mem, frames.offset(f) + VirtioNetSpec.HDR_SIZE, header.length);
                    tok[got++] = f;
                }
                int s = tx.transmit(tok, lens, got);
                for (int i = s; i < got; i++) {
                    frames.free(tok[i]);
                }
                sent += got;
            }
        }
        double[] rates = new double[seconds];
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long next = System.nanoTime() + 1_000_000_000L;
        long lastTx = tx.packets();
        long lastRx = rx.packets();
        long lastT = System.nanoTime();
        int sec = 0;
        while (sec < seconds) {
            if (txonly) {
                int n = 0;
                while (n < burst) {
                    long f = frames.alloc();
                    if (f == 0) {
                        break;
                    }
                    MemorySegment.copy(tmpl, 0, mem, frames.offset(f) + VirtioNetSpec.HDR_SIZE, header.length);
                    tok[n++] = f;
                }
                int s = tx.transmit(tok, lens, n);
                for (int i = s; i < n; i++) {
                    frames.free(tok[i]);
                }
            } else {
                int n = rx.receive(tok, lens, burst);
                if (n > 0) {
                    int s = tx.transmit(tok, lens, n);
                    for (int i = s; i < n; i++) {
                        frames.free(tok[i]);
                    }
                }
            }
            long now = System.nanoTime();
            if (now >= next) {
                long txp = tx.packets();
                long rxp = rx.packets();
                double dt = (now - lastT) / 1e9;
                double txr = (txp - lastTx) / dt;
                double rxr = (rxp - lastRx) / dt;
                rates[sec++] = txr;
                System.out.printf("tx-pps %.0f rx-pps %.0f%n", txr, rxr);
                lastTx = txp;
                lastRx = rxp;
                lastT = now;
                next = now + 1_000_000_000L;
            }
            if (now > end + 5_000_000_000L) {
                break;
            }
        }
        double[] s = Arrays.copyOf(rates, sec);
        Arrays.sort(s);
        System.out.printf("median-tx-pps %.0f%n", s.length == 0 ? 0.0 : s[s.length / 2]);
    }

    /** Ethernet + IPv4 + UDP header for a frame of {@code len} bytes (as testpmd's txonly builds it). */
    static byte[] udpHeader(int len) {
        byte[] h = new byte[42];
        byte[] dst = {0x02, 0, 0, 0, 0, 0x02};
        byte[] src = {0x02, 0, 0, 0, 0, 0x01};
        System.arraycopy(dst, 0, h, 0, 6);
        System.arraycopy(src, 0, h, 6, 6);
        h[12] = 0x08;
        h[14] = 0x45;
        int ipLen = len - 14;
        h[16] = (byte) (ipLen >> 8);
        h[17] = (byte) ipLen;
        h[22] = 64;
        h[23] = 17;
        h[26] = (byte) 198;
        h[27] = 18;
        h[29] = 1;
        h[30] = (byte) 198;
        h[31] = 18;
        h[33] = 2;
        h[34] = 0x04;
        h[36] = 0x04;
        h[37] = 1;
        int udpLen = ipLen - 20;
        h[38] = (byte) (udpLen >> 8);
        h[39] = (byte) udpLen;
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((h[i] & 0xFF) << 8) | (h[i + 1] & 0xFF);
        }
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = ~((sum & 0xFFFF) + (sum >>> 16)) & 0xFFFF;
        h[24] = (byte) (sum >> 8);
        h[25] = (byte) sum;
        return h;
    }

    /** Fixed-size frames in one memzone with a LIFO free stack (bench only; the mbuf pool replaces it). */
    static final class FrameStack implements BufferOps {
        private final Memzone zone;
        private final MemorySegment mem;
        private final int room;
        private final long[] stack;
        private int top;

        FrameStack(Memzone zone, int room) {
            this.zone = zone;
            this.mem = zone.memory();
            this.room = room;
            int n = (int) (zone.length() / room);
            stack = new long[n];
            for (int i = n - 1; i >= 0; i--) {
                stack[top++] = (long) i * room + 1;
            }
        }

        @Override
        public long alloc() {
            return top == 0 ? 0 : stack[--top];
        }

        @Override
        public void free(long token) {
            stack[top++] = token;
        }

        @Override
        public long iova(long token) {
            return zone.iova(token - 1);
        }

        @Override
        public int room(long token) {
            return room;
        }

        @Override
        public MemorySegment memory() {
            return mem;
        }

        @Override
        public long offset(long token) {
            return token - 1;
        }
    }
}
