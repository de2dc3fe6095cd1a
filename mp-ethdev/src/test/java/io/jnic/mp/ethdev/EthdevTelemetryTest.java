package io.jnic.mp.ethdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ethdev telemetry commands, the Port and Mempool MBeans, and the LinkChange event, on a primary's devsim ports. */
class EthdevTelemetryTest {
    @TempDir
    static Path base;

    @BeforeAll
    static void runtimeBase() {
        System.setProperty("jnic.runtime.base", base.toString());
    }

    @Test
    void commandsBeansAndLinkEvents() throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        Path jfr = base.resolve("link.jfr");
        ObjectName port0 = new ObjectName("io.jnic:type=Port,prefix=\"etel\",port=0");
        try (PrimaryRig p = new PrimaryRig(Files.createDirectories(base.resolve("sim")), "etel", 1, 20_000);
                Recording rec = new Recording()) {
            PortStatsService.serve(p.rt, p.devs);
            p.rt.telemetry().publishMBeans(); // what the server thread does 2 s after start
            var t = p.rt.telemetry();
            assertEquals("{\"/ethdev/list\":[0,1]}", t.handle("/ethdev/list"));
            assertEquals("{\"/ethdev/link_status\":null}", t.handle("/ethdev/link_status,7"));
            assertEquals("{\"/ethdev/link_status\":{\"status\":\"UP\",\"speed\":10000,\"duplex\":\"full-duplex\"}}",
                    t.handle("/ethdev/link_status,0"));
            String info = t.handle("/ethdev/info,1");
            assertTrue(info.contains("\"nb_rx_queues\":1") && info.contains("\"port_id\":1")
                    && info.contains("\"driver_name\":\"net_ixgbe\""), info);
            assertTrue(t.handle("/jnic/queues").contains("{\"port\":0,\"queue\":0,\"owner_pid\":" + p.rt.pid()
                    + ",\"owner\":\"alive\"}"), t.handle("/jnic/queues"));
            p.forward(1);
            for (long end = System.nanoTime() + 60_000_000_000L; p.rx == 0 && System.nanoTime() < end;) {
                Thread.sleep(20);
            }
            String stats = t.handle("/ethdev/stats,0");
            assertTrue(stats.matches(".*\"ipackets\":[1-9][0-9]*,.*") && stats.contains("\"q_ipackets\":["), stats);
            assertTrue((Long) mbs.getAttribute(port0, "ipackets") > 0);
            assertEquals(8191L, mbs.getAttribute(new ObjectName("io.jnic:type=Mempool,prefix=\"etel\",name=\"mp_test_pool\""),
                    "size"));

            rec.enable("io.jnic.LinkChange");
            rec.start();
            p.sim.command("link-down 0");
            for (long end = System.nanoTime() + 60_000_000_000L;
                    !t.handle("/ethdev/link_status,0").contains("DOWN") && System.nanoTime() < end;) {
                Thread.sleep(20);
            }
            assertEquals("{\"/ethdev/link_status\":{\"status\":\"DOWN\"}}", t.handle("/ethdev/link_status,0"));
            assertEquals(0L, mbs.getAttribute(port0, "link_up"));
            // the port table shows the new link before the listeners run (one of which commits the event): the
            // recording is read until the event is in it, for a while
            List<RecordedEvent> events = List.of();
            for (long end = System.nanoTime() + 10_000_000_000L; System.nanoTime() < end; Thread.sleep(20)) {
                rec.dump(jfr);
                events = RecordingFile.readAllEvents(jfr).stream()
                        .filter(e -> e.getEventType().getName().equals("io.jnic.LinkChange")).toList();
                if (events.stream().anyMatch(e -> e.getInt("port") == 0 && !e.getBoolean("up"))) {
                    break;
                }
            }
            rec.stop();
            assertTrue(events.stream().anyMatch(e -> e.getInt("port") == 0 && !e.getBoolean("up")), events.toString());
        }
        assertFalse(mbs.isRegistered(port0), "the port's MBean goes with the runtime");
    }
}
