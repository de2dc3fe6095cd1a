package io.jnic.multiproc.telemetry;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR events of the multi-process runtime (record with {@code -XX:StartFlightRecording} or {@code jcmd PID
 * JFR.start}; read with {@code jfr print --categories jnic}). They are committed where the runtime logs the same
 * facts: a link change, a queue pair reset after its owner died, a process that ended, and the end of its
 * recovery. Off by default, like every JFR event, and never on the data path.
 */
public final class JnicEvents {
    private JnicEvents() {
    }

    /** Commits a {@link LinkChange} if JFR records it. */
    public static void linkChange(int port, boolean up, int speedMbps) {
        LinkChange e = new LinkChange();
        if (e.isEnabled()) {
            e.port = port;
            e.up = up;
            e.speedMbps = speedMbps;
            e.commit();
        }
    }

    /** Commits a {@link QueueReset} if JFR records it. */
    public static void queueReset(int port, int queue, int ownerPid, boolean succeeded) {
        QueueReset e = new QueueReset();
        if (e.isEnabled()) {
            e.port = port;
            e.queue = queue;
            e.ownerPid = ownerPid;
            e.succeeded = succeeded;
            e.commit();
        }
    }

    /** Commits a {@link ProcessExit} if JFR records it. */
    public static void processExit(int pid, int procId, boolean primary, boolean detached, String lcores) {
        ProcessExit e = new ProcessExit();
        if (e.isEnabled()) {
            e.pid = pid;
            e.procId = procId;
            e.primary = primary;
            e.detached = detached;
            e.lcores = lcores;
            e.commit();
        }
    }

    @Name("io.jnic.LinkChange")
    @Label("Link Change")
    @Category({"jnic", "ethdev"})
    @Description("A port's link went up or down (in the primary, and in each secondary when the event reaches it)")
    public static final class LinkChange extends Event {
        @Label("Port")
        public int port;
        @Label("Up")
        public boolean up;
        @Label("Speed (Mbit/s)")
        public int speedMbps;
    }

    @Name("io.jnic.QueueReset")
    @Label("Queue Reset")
    @Category({"jnic", "ethdev"})
    @Description("A queue pair whose owner died was reset by the primary")
    public static final class QueueReset extends Event {
        @Label("Port")
        public int port;
        @Label("Queue")
        public int queue;
        @Label("Dead owner pid")
        public int ownerPid;
        @Label("Succeeded")
        public boolean succeeded;
    }

    @Name("io.jnic.ProcessExit")
    @Label("Process Exit")
    @Category({"jnic", "multiproc"})
    @Description("A secondary ended (died or detached), seen by the primary; or the primary ended, seen by a secondary")
    public static final class ProcessExit extends Event {
        @Label("Pid")
        public int pid;
        @Label("Proc id")
        public int procId;
        @Label("Primary")
        public boolean primary;
        @Label("Detached (left in order)")
        public boolean detached;
        @Label("Lcores released")
        public String lcores;
    }

    @Name("io.jnic.Recovery")
    @Label("Recovery")
    @Category({"jnic", "multiproc"})
    @Description("The primary recovered what a dead secondary held (the event's duration is the recovery's)")
    public static final class Recovery extends Event {
        @Label("Dead pid")
        public int pid;
        @Label("Queue pairs reset")
        public int queuesReset;
        @Label("Mbufs reclaimed")
        public long mbufsReclaimed;
    }
}
