package io.jnic.mp.ethdev;

import io.jnic.ethdev.QueuePair;
import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.mbuf.MbufBatch;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import java.io.BufferedReader;
import java.io.InputStreamReader;

/**
 * A secondary in a child JVM: args PREFIX RX_PORT TX_PORT QUEUE NQUEUES. Attaches queue QUEUE of both ports,
 * prints "ATTACHED pid", then forwards RX_PORT -> TX_PORT until "quit" on stdin, checking every packet's RSS
 * hash against the default redirection table (entry i -> queue i % NQUEUES); prints
 * "DONE rx tx dropped misrouted". Failures print "ERROR message".
 */
public final class QueueChild {
    public static void main(String[] args) throws Exception {
        try (MpRuntime rt = MpRuntime.start(EalOptions.parse("--proc-type", "secondary", "--file-prefix", args[0]))) {
            int rxPort = Integer.parseInt(args[1]);
            int txPort = Integer.parseInt(args[2]);
            int queue = Integer.parseInt(args[3]);
            int nq = Integer.parseInt(args[4]);
            MpRuntime.FloatingLcore lcore = rt.attachFloatingThread();
            SecondaryQueues sq = SecondaryQueues.join(rt);
            sq.addLinkListener((p, l, at) -> System.out.println("LINK " + p + " " + (l.up() ? "up" : "down") + " "
                    + (System.nanoTime() - at)));
            QueuePair rx;
            QueuePair tx;
            try {
                rx = sq.attach(rxPort, queue, lcore.id());
                tx = rxPort == txPort ? rx : sq.attach(txPort, queue, lcore.id());
            } catch (RuntimeException e) {
                System.out.println("ERROR " + e.getMessage());
                return;
            }
            System.out.println("ATTACHED " + rt.pid());
            System.out.flush();
            Stop stop = new Stop();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in))) {
                    String l;
                    while ((l = r.readLine()) != null && !l.equals("quit")) {
                        // ignore
                    }
                } catch (Exception ignored) {
                    // parent gone
                }
                stop.stop = true;
            });
            reader.setDaemon(true);
            reader.start();
            MbufBatch b = new MbufBatch(32);
            Mbuf m = new Mbuf();
            RssOracle oracle = new RssOracle();
            long rxn = 0;
            long txn = 0;
            long dropped = 0;
            long misrouted = 0;
            while (!stop.stop) {
                int got = rx.rxBurst(b);
                if (got == 0) {
                    Thread.onSpinWait();
                    continue;
                }
                rxn += got;
                for (int i = 0; i < got; i++) {
                    long want = oracle.hash(m.wrap(b.get(i)));
                    // the flow belongs on this queue by the oracle's hash and the default RETA, and the device
                    // reported that hash
                    if (want < 0 || RssOracle.queue(want, nq) != queue || (m.rssHash() & 0xFFFFFFFFL) != want) {
                        misrouted++;
                    }
                }
                txn += tx.txBurst(b);
                dropped += b.count();
                b.free(lcore.id());
            }
            System.out.println("DONE " + rxn + " " + txn + " " + dropped + " " + misrouted);
            sq.close();
            lcore.close();
        } catch (RuntimeException e) {
            System.out.println("ERROR " + e.getMessage());
        }
    }

    static final class Stop {
        volatile boolean stop;
    }
}
