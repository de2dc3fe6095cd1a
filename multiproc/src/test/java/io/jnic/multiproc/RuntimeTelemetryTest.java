package io.jnic.multiproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.multiproc.telemetry.TelemetryServer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The runtime's telemetry: its socket, process commands, MBean and the JFR event of a dead secondary. */
@Timeout(120)
class RuntimeTelemetryTest {
    @TempDir
    Path base;

    @BeforeEach
    void useTempRuntimeDirs() {
        System.setProperty(RuntimeDir.BASE_PROPERTY, base.toString());
    }

    @AfterEach
    void clear() {
        System.clearProperty(RuntimeDir.BASE_PROPERTY);
    }

    @Test
    void theGroupsProcessesAreServedPublishedAndTheirDeathsRecorded() throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        Path sock;
        ObjectName bean;
        Path jfr = base.resolve("rt.jfr");
        try (Recording rec = new Recording()) {
            rec.enable("io.jnic.ProcessExit");
            rec.start();
            BlockingQueue<SecondaryExit> exits = new ArrayBlockingQueue<>(4);
            try (MpRuntime primary = MpRuntimeTest.start("--file-prefix", "rtel", "--", "app-arg")) {
                primary.onSecondaryExit(exits::add);
                sock = primary.telemetrySocket().orElseThrow();
                assertEquals(TelemetryServer.socketDir("rtel").resolve("dpdk_telemetry.v2"), sock);
                assertEquals("{\"/eal/app_params\":[\"app-arg\"]}", primary.telemetry().handle("/eal/app_params"));
                String params = primary.telemetry().handle("/eal/params");
                assertTrue(params.contains("\"--file-prefix\",\"rtel\"") && params.contains("\"--no-huge\""), params);
                primary.telemetry().publishMBeans(); // what the server thread does 2 s after start
                bean = new ObjectName("io.jnic:type=Process,prefix=\"rtel\",pid=" + primary.pid());
                assertEquals((long) primary.pid(), mbs.getAttribute(bean, "pid"));
                assertEquals("primary", mbs.getAttribute(bean, "type"));
                try (Child s = Child.start(base, "--proc-type", "secondary", "--file-prefix", "rtel")) {
                    assertTrue(s.started().startsWith("READY secondary"));
                    String procs = primary.telemetry().handle("/jnic/procs");
                    assertTrue(procs.contains("{\"pid\":" + s.pid() + ",\"proc_id\":1,\"type\":\"secondary\",\"lcores\":[],"
                            + "\"alive\":true}"), procs);
                    assertEquals(1L, mbs.getAttribute(bean, "registered_secondaries"));
                    assertTrue(Files.exists(sock.resolveSibling("dpdk_telemetry.v2:1")), "the secondary serves as instance 1");
                    s.process.destroyForcibly();
                    SecondaryExit e = exits.poll(30, TimeUnit.SECONDS);
                    assertEquals((int) s.pid(), e.secondary().pid());
                    assertFalse(Files.exists(sock.resolveSibling("dpdk_telemetry.v2:1")), "the dead one's socket is removed");
                    assertTrue(Files.exists(sock), "the primary's stays");
                    rec.stop();
                    rec.dump(jfr);
                    boolean seen = false;
                    for (RecordedEvent ev : RecordingFile.readAllEvents(jfr)) {
                        if (ev.getEventType().getName().equals("io.jnic.ProcessExit") && ev.getInt("pid") == s.pid()) {
                            assertEquals(1, ev.getInt("procId"));
                            assertFalse(ev.getBoolean("detached"));
                            seen = true;
                        }
                    }
                    assertTrue(seen, "a ProcessExit event for the killed secondary");
                }
            }
        }
        assertFalse(mbs.isRegistered(bean), "the MBean goes with the runtime");
        assertFalse(Files.exists(sock), "and the socket");
    }
}
