package io.jnic.devsim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.IxgbeRegs;
import io.jnic.devsim.wire.GeneratorWire;
import io.jnic.testsupport.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator as a whole: configuration errors, the control socket, and the command line in a child JVM. */
class DevsimTest {
    @TempDir
    Path dir;

    @Test
    void controlSocketInjectsFaultsAndReportsStatus() throws Exception {
        try (Devsim d = Devsim.start(Devsim.Config.of(2, "pair"));
                ControlServer c = new ControlServer(d, dir.resolve("devsim.ctl"))) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!d.port(1).linkUp() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(d.port(1).linkUp(), "the device thread brought the link up");
            assertEquals("ok", ControlServer.send(c.path(), "link-down 1"));
            while (d.port(1).linkUp() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(0, d.port(1).read32(IxgbeRegs.LINKS) & IxgbeRegs.LINKS_UP);
            String stats = ControlServer.send(c.path(), "stats");
            assertTrue(stats.startsWith("ok\nport 0 link up") && stats.contains("port 1 link down"), stats);
            assertEquals("error: no port 7: ports are 0-1", ControlServer.send(c.path(), "stall 7"));
            assertEquals("error: probability must be within [0, 1], got 2.0", ControlServer.send(c.path(), "drop 0 2"));
            assertEquals("error: unknown command 'fly' (try help)", ControlServer.send(c.path(), "fly 0"));
            assertEquals("error: 'reset' takes 1 argument(s), got 0", ControlServer.send(c.path(), "reset"));
            assertTrue(ControlServer.send(c.path(), "gen 0 start").startsWith("error: port 0 has no generator"));
            assertEquals("ok", ControlServer.send(c.path(), "reset 0"));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ControlServer.send(dir.resolve("nothing.ctl"), "stats"));
        assertTrue(e.getMessage().contains("no devsim control socket at") && e.getMessage().contains("ENOENT"),
                e.getMessage());
    }

    @Test
    void badConfigurationsAreRefusedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Devsim.start(Devsim.Config.of(3, "pair")));
        assertTrue(e.getMessage().contains("port 2 needs port 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Devsim.start(Devsim.Config.of(1, "wormhole")));
        assertTrue(e.getMessage().contains("unknown --wire 'wormhole'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Devsim.Config.of(9, "loop"));
        assertTrue(e.getMessage().contains("--ports must be 1-8"), e.getMessage());
    }

    @Test
    void generatorPortsRunOnTheDeviceThread() throws Exception {
        Devsim.Config cfg = new Devsim.Config(1, List.of("gen"), new byte[] {2, 0, 0, 0, 0, 1}, 0, 64, 8, 0x33, 1000, 0);
        try (Devsim d = Devsim.start(cfg)) {
            GeneratorWire g = (GeneratorWire) d.wire(0);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (g.sent() < 1000 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(1000, g.sent(), "the frame limit is honoured");
            assertEquals(null, d.loop().failure());
        }
    }

    @Test
    void commandLineRunsAndAnswersOnItsControlSocket() throws Exception {
        ChildJvm child = ChildJvm.of(Main.class).args("--ports", "2", "--wire", "gen,loop", "--gen-rate", "1000",
                "--socket-dir", dir.toString(), "--duration", "30").outputTo(dir.resolve("out.txt")).start();
        Process p = child.process();
        try {
            Path ctl = dir.resolve("devsim.ctl");
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Files.exists(ctl) && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(20);
            }
            String stats = ControlServer.send(ctl, "stats");
            assertTrue(stats.contains("port 0") && stats.contains("gen 1000 pps") && stats.contains("port 1")
                    && stats.contains("loop"), stats);
            // a driver in another process reaches port 1 over vfio-user
            try (io.jnic.pci.vfiouser.VfioUserDevice d = io.jnic.pci.vfiouser.VfioUserDevice.connect(
                    dir.resolve("port1.sock"))) {
                assertEquals(IxgbeRegs.PCI_DEVICE_82599_SFP, d.configRead(2, 2));
                assertEquals(1, (d.bar(0).read32(IxgbeRegs.STATUS) & IxgbeRegs.STATUS_LAN_ID_MASK)
                        >>> IxgbeRegs.STATUS_LAN_ID_SHIFT);
                d.bar(0).write32(IxgbeRegs.CTRL, IxgbeRegs.CTRL_RST);
                long until = System.nanoTime() + 10_000_000_000L;
                while ((d.bar(0).read32(IxgbeRegs.CTRL) & IxgbeRegs.CTRL_RST) != 0 && System.nanoTime() < until) {
                    Thread.sleep(1);
                }
                assertEquals(0, d.bar(0).read32(IxgbeRegs.CTRL) & IxgbeRegs.CTRL_RST, "the devsim process finished the reset");
            }
        } finally {
            p.destroy();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "devsim stops on SIGTERM");
        }
        String out = Files.readString(dir.resolve("out.txt"));
        assertTrue(out.contains("devsim: port 0 MAC 02:6a:6e:00:00:00, wire gen 1000 pps"), out);
        assertTrue(out.contains("devsim: port 1 vfio-user socket " + dir.resolve("port1.sock")), out);
        assertTrue(out.contains("port 1 link up"), "final statistics printed on the way out: " + out);
        assertEquals(143, p.exitValue(), "terminated by SIGTERM: " + out);
    }

    @Test
    void commandLineRejectsABadMac() throws Exception {
        ChildJvm p = ChildJvm.of(Main.class).args("--mac", "02:zz:00:00:00:00").stderr(ChildJvm.Stderr.MERGE).start();
        assertEquals(2, p.waitFor(Duration.ofSeconds(60)));
        String out = String.join("\n", p.seen());
        assertTrue(out.contains("devsim: --mac '02:zz:00:00:00:00': 'zz' is not a hex octet"), out);
    }
}
