package io.jnic.mp.ethdev;

import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.sys.Events;
import io.jnic.sys.Io;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;

/**
 * A secondary in a child JVM driving one queue pair of the primary's virtio_user port: args PREFIX PORT QUEUE.
 * Prints "ATTACHED pid lcore" (or "ERROR message"), then obeys stdin: "round SEQ N" (N frames out and back, byte
 * checked: "ROUND ok" or "ROUND <mismatch>"), "send SEQ N" (frames out, not received: "SENT"), "wake SEQ" (arms the
 * RX interrupt, sends one frame and sleeps on the RX eventfd: "WOKE armed woken same-bytes"), "hold N" (allocates
 * N mbufs and keeps them: "HELD"), "quit" ("DONE rx tx").
 */
public final class VirtioQueueChild {
    public static void main(String[] args) throws Exception {
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--proc-type", "secondary", "--file-prefix", args[0]))) {
            int port = Integer.parseInt(args[1]);
            int queue = Integer.parseInt(args[2]);
            MpRuntime.FloatingLcore lcore = rt.attachFloatingThread();
            SecondaryQueues sq = SecondaryQueues.join(rt);
            QueuePair q;
            try {
                q = sq.attach(port, queue, lcore.id());
            } catch (RuntimeException e) {
                System.out.println("ERROR " + e.getMessage());
                return;
            }
            Mempool pool = SharedPorts.attachPools(rt.memory()).getFirst();
            System.out.println("ATTACHED " + rt.pid() + " " + lcore.id());
            List<Long> held = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in))) {
                String l;
                while ((l = r.readLine()) != null && !l.equals("quit")) {
                    String[] w = l.split(" ");
                    switch (w[0]) {
                        case "round" -> {
                            String bad = VirtioFrames.roundTrip(pool, lcore.id(), q, Integer.parseInt(w[1]),
                                    Integer.parseInt(w[2]));
                            System.out.println("ROUND " + (bad == null ? "ok" : bad));
                        }
                        case "send" -> {
                            int seq = Integer.parseInt(w[1]);
                            MbufBatch b = new MbufBatch(64);
                            for (int i = 0; i < Integer.parseInt(w[2]); i++) {
                                b.add(VirtioFrames.put(pool, lcore.id(), VirtioFrames.frame(queue, seq + i)));
                            }
                            while (!b.isEmpty()) {
                                q.txBurst(b);
                            }
                            System.out.println("SENT");
                        }
                        case "wake" -> {
                            // interrupt mode: arm, send one frame, sleep on the RX eventfd until it comes back
                            int fd = sq.rxInterruptFd(port, queue);
                            boolean armed = sq.rxInterruptEnable(port, queue);
                            byte[] f = VirtioFrames.frame(queue, Integer.parseInt(w[1]));
                            MbufBatch b = new MbufBatch(4);
                            b.add(VirtioFrames.put(pool, lcore.id(), f));
                            while (!b.isEmpty()) {
                                q.txBurst(b);
                            }
                            boolean woke = Events.pollIn(fd, 10_000);
                            Io.close(fd);
                            long end = System.nanoTime() + 10_000_000_000L;
                            while (q.rxBurst(b) == 0 && System.nanoTime() < end) {
                                Thread.onSpinWait();
                            }
                            boolean same = b.count() == 1 && java.util.Arrays.equals(VirtioFrames.swapped(f),
                                    VirtioFrames.read(b.get(0)));
                            b.free(lcore.id());
                            System.out.println("WOKE " + armed + " " + woke + " " + same);
                        }
                        case "hold" -> {
                            for (int i = 0; i < Integer.parseInt(w[1]); i++) {
                                held.add(pool.alloc(lcore.id()));
                            }
                            System.out.println("HELD");
                        }
                        default -> System.out.println("ERROR unknown command " + l);
                    }
                    System.out.flush();
                }
            }
            System.out.println("DONE " + q.rxPackets() + " " + q.txPackets());
            for (long h : held) {
                Mempool.free(h, lcore.id());
            }
            q.close();
            sq.close();
            lcore.close();
        } catch (RuntimeException e) {
            System.out.println("ERROR " + e);
        }
    }
}
