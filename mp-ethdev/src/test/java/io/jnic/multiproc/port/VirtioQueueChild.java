package io.jnic.multiproc.port;

import io.jnic.ethdev.SharedQueue;
import io.jnic.memory.mbuf.Mempool;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;

/**
 * A secondary in a child JVM driving one queue pair of the primary's virtio_user port: args PREFIX PORT QUEUE.
 * Prints "ATTACHED pid lcore" (or "ERROR message"), then obeys stdin: "round SEQ N" (N frames out and back, byte
 * checked: "ROUND ok" or "ROUND <mismatch>"), "send SEQ N" (frames out, not received: "SENT"), "hold N" (allocates
 * N mbufs and keeps them: "HELD"), "quit" ("DONE rx tx").
 */
public final class VirtioQueueChild {
    public static void main(String[] args) throws Exception {
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--proc-type", "secondary", "--file-prefix", args[0]))) {
            int port = Integer.parseInt(args[1]);
            int queue = Integer.parseInt(args[2]);
            MpRuntime.FloatingLcore lcore = rt.attachFloatingThread();
            SecondaryQueues sq = SecondaryQueues.join(rt);
            SharedQueue q;
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
