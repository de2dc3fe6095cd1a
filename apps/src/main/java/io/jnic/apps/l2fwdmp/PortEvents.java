package io.jnic.apps.l2fwdmp;

import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.PortReset;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The port events a process of l2fwd-mp hears over IPC: link changes (printed with how long ago the primary
 * forwarded them, and kept for the stats JSON) and device resets the port's owner recovered.
 */
final class PortEvents {
    private final PrintStream out;
    private final int procId;
    private final List<String> linkEvents = new CopyOnWriteArrayList<>();

    PortEvents(PrintStream out, int procId) {
        this.out = out;
        this.procId = procId;
    }

    void onReset(int port, PortReset r, long at) {
        out.println("l2fwd-mp: proc " + procId + ": " + r.description());
    }

    void onLink(int port, LinkStatus l, long at) {
        long latencyUs = (System.nanoTime() - at) / 1000;
        linkEvents.add(String.format(Locale.ROOT, "{\"port\": %d, \"up\": %b, \"latency_us\": %d}", port, l.up(), latencyUs));
        out.printf(Locale.ROOT, "l2fwd-mp: proc %d: port %d link %s (forwarded by the primary %d us ago)%n", procId, port,
                l.up() ? "up " + l.speedMbps() + " Mbit/s" : "down", latencyUs);
    }

    /** The link events so far, as a JSON array. */
    String linkEventsJson() {
        return linkEvents.toString();
    }
}
