package io.jnic.mp.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnic.memory.Memzone;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parts of attaching without a primary that one process can check: the device sockets the primary
 * records, and the refusals a user sees (a dead owner's queue, a port that is not vfio-user, a server that is
 * gone). The whole path with real processes (primary killed, secondaries forwarding, a new one joining) is in
 * the apps module's l2fwd-mp tests.
 */
class OrphanAttachTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    @AfterAll
    static void clear() {
        System.clearProperty("jnic.runtime.base");
    }

    @Test
    void thePrimaryRecordsEachPortsSocketAndTheRefusalsSayWhatToDo() throws Exception {
        Path simDir = Files.createDirectories(base.resolve("sim"));
        try (PrimaryRig rig = new PrimaryRig(simDir, "orphan-attach", 2, 1000)) {
            assertEquals("vfio-user:" + simDir.resolve("port0.sock").toAbsolutePath(),
                    OrphanAttach.reopenName(rig.rt.memory(), 0));
            assertEquals("vfio-user:" + simDir.resolve("port1.sock").toAbsolutePath(),
                    OrphanAttach.reopenName(rig.rt.memory(), 1));
            assertNull(OrphanAttach.reopenName(rig.rt.memory(), 2));

            // a queue whose owner died while no primary runs cannot be taken over
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            int dead = (int) gone.pid();
            QueueOwners owners = rig.shared.owners();
            owners.claim(1, 1, dead, 0);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> OrphanAttach.checkClaimable(owners, rig.rt, 1, 1));
            assertEquals("queue 1 of port 1 was driven by pid " + dead + ", which died after the primary (pid "
                    + rig.rt.primaryPid() + "); without a primary nobody can reset the queue and reclaim its mbufs, so "
                    + "it cannot be taken over. Restart the group (stop every process of file prefix 'orphan-attach', "
                    + "then start a primary) to use it again", e.getMessage());
            OrphanAttach.checkClaimable(owners, rig.rt, 0, 1); // a free queue is fine
            owners.release(1, 1, dead);

            // no socket recorded: a kernel (VFIO/UIO) port
            IllegalStateException k = assertThrows(IllegalStateException.class,
                    () -> OrphanAttach.doorbells(rig.rt, SharedPorts.table(rig.rt.memory()), 2));
            assertEquals("port 2 () is not a device another process can open (a vfio-user device), and the primary (pid "
                    + rig.rt.primaryPid() + ") has ended: only the primary can hand over a queue of a VFIO, UIO or "
                    + "virtio-user port (the kernel allows one opener of a VFIO group: the primary's, held open by the "
                    + "running processes; a vhost-user connection is the primary's). Restart the group to add processes",
                    k.getMessage());

            // a recorded server that is gone (devsim inside a dead primary)
            Path missing = base.resolve("gone.sock");
            Memzone z = rig.rt.memory().find(OrphanAttach.MEMZONE).orElseThrow();
            byte[] b = ("vfio-user:" + missing).getBytes(StandardCharsets.UTF_8);
            MemorySegment m = z.memory();
            long at = OrphanAttach.HEADER + OrphanAttach.ENTRY * 3;
            MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, at + 4, b.length);
            m.set(ValueLayout.JAVA_INT, at, b.length);
            IllegalStateException g = assertThrows(IllegalStateException.class,
                    () -> OrphanAttach.doorbells(rig.rt, SharedPorts.table(rig.rt.memory()), 3));
            assertEquals("port 3: its device vfio-user:" + missing + " is gone (" + g.getCause().getCause().getMessage()
                    + "); a device served inside the primary (l2fwd-mp's default devsim) ends with it. Serve the ports "
                    + "from a standalone devsim (java -jar devsim.jar --socket-dir DIR) to keep them beyond the primary",
                    g.getMessage());
        }
    }
}
