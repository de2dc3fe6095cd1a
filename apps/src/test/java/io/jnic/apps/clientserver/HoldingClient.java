package io.jnic.apps.clientserver;

import io.jnic.memory.mbuf.Mbuf;
import io.jnic.memory.ring.Ring;
import io.jnic.multiproc.EalOptions;
import io.jnic.multiproc.MpRuntime;
import io.jnic.mp.ethdev.SecondaryQueues;

/**
 * A client that stops at the worst moment for recovery, to be killed there: it attaches its queue pairs as
 * mp-client does, owns {@code 2 * HELD} mbufs at the head of its ring the way mp-client does before a dequeue,
 * dequeues only {@code HELD} of them, says so and waits. Args: file prefix, client id.
 */
public final class HoldingClient {
    static final int HELD = 8;

    private HoldingClient() {
    }

    public static void main(String[] args) throws Exception {
        String prefix = args[0];
        int id = Integer.parseInt(args[1]);
        MpRuntime rt = MpRuntime.start(EalOptions.parse("--proc-type", "secondary", "--file-prefix", prefix));
        SecondaryQueues sq = SecondaryQueues.join(rt);
        PortInfo info = PortInfo.attach(rt.memory());
        Ring ring = Ring.attach(rt.memory().find(PortInfo.ringName(id)).orElseThrow().memory());
        int lcore = rt.attachFloatingThread().id();
        for (int p : info.ports()) {
            sq.attach(p, id + 1, lcore);
        }
        while (ring.count() < 2 * HELD) {
            Thread.sleep(5);
        }
        long[] head = new long[2 * HELD];
        int k = MpClient.own(ring, head, new int[head.length], new Mbuf(), (short) lcore);
        long[] held = new long[HELD];
        int d = ring.dequeueBurst(held, 0, HELD);
        System.out.println("holding " + d + " mbufs taken from " + PortInfo.ringName(id) + ", " + (k - d)
                + " owned in the ring, lcore " + lcore);
        Thread.sleep(Long.MAX_VALUE);
    }
}
