package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.ethdev.LinkStatus;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.PortState;
import io.jnic.ethdev.PortTable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IxgbeInitTest {
    @TempDir
    Path dir;

    @Test
    void probeInitsTheDeviceReadsTheMacAndBringsTheLinkUp() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice d = rig.probe(1);
            assertEquals(IxgbeDriver.NAME, d.info().driverName());
            assertEquals(16, d.info().rxInterruptQueues(), "devsim's 64 MSI-X vectors: one per RX queue after the link's");
            assertEquals(IxgbeDeviceIds.IXGBE_82599_SFP, d.pciDeviceId());
            assertEquals(MacAddress.of(rig.sim.mac(1)), d.macAddress());
            LinkStatus l = d.waitLink(Duration.ofSeconds(10));
            assertTrue(l.up(), "link " + l);
            assertEquals(10_000, l.speedMbps());
            PortTable t = PortTable.of(rig.mem);
            assertEquals("net_ixgbe", t.driverName(d.portId()));
            assertEquals(d.deviceName(), t.deviceName(d.portId()));
            assertEquals(d.macAddress(), t.mac(d.portId()));
            assertEquals(PortState.PROBED, t.state(d.portId()));
        }
    }

    @Test
    void linkDownAndUpArriveAsLscInterrupts() throws Exception {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1), 256);
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            LinkedBlockingQueue<LinkStatus> events = new LinkedBlockingQueue<>();
            d.addLinkListener(events::add);
            // let the initial auto-negotiation interrupt, if any, pass
            Thread.sleep(50);
            events.clear();
            long before = d.linkInterrupts();
            assertEquals("ok", rig.sim.command("link-down 0"));
            LinkStatus down = events.poll(10, TimeUnit.SECONDS);
            assertFalse(down == null || down.up(), "expected a link-down event, got " + down);
            assertFalse(PortTable.of(rig.mem).link(d.portId()).up());
            assertEquals("ok", rig.sim.command("link-up 0"));
            LinkStatus up = null;
            long end = System.nanoTime() + 10_000_000_000L;
            while ((up == null || !up.up()) && System.nanoTime() < end) {
                up = events.poll(100, TimeUnit.MILLISECONDS);
            }
            assertTrue(up != null && up.up(), "expected a link-up event");
            assertTrue(PortTable.of(rig.mem).link(d.portId()).up());
            // the watchdog may report the link before the link thread has read the interrupt: wait for the count
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (d.linkInterrupts() < before + 2 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertTrue(d.linkInterrupts() >= before + 2, "interrupts " + d.linkInterrupts() + ", before " + before);
        }
    }

    @Test
    void badConfigurationIsRefused() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            IxgbeDevice d = rig.probe(0);
            var e = assertThrows(IllegalArgumentException.class, () -> d.configure(PortConfig.of(17, 1)));
            assertEquals("port 0 (" + d.deviceName() + "): 17 RX queues requested, the device has 16", e.getMessage());
            d.configure(PortConfig.of(1, 1));
            e = assertThrows(IllegalArgumentException.class, () -> d.rxQueueSetup(0, 100, rig.pool));
            assertEquals("port 0 (" + d.deviceName() + "): ring size 100 not accepted: it must be 64..4096 and a multiple"
                    + " of 8", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> d.txQueueSetup(0, 8192));
            assertTrue(e.getMessage().contains("ring size 8192 not accepted"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> d.configure(PortConfig.of(1, 1).withMtu(9711)));
            assertEquals("port 0 (" + d.deviceName() + "): MTU 9711 outside 68..9710", e.getMessage());
            d.configure(PortConfig.of(1, 1).withMtu(9000));
            e = assertThrows(IllegalArgumentException.class, () -> d.rxQueueSetup(0, 512, rig.pool));
            assertTrue(e.getMessage().contains("has 2048-byte data rooms; frames of up to 9018 bytes (MTU 9000) need that "
                    + "much, as this driver receives every frame into one buffer unless the queue has RX offload "
                    + "SCATTER"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> rig.ports.port(5));
            assertEquals("no port 5 in this process; ports are [0]", e.getMessage());
        }
    }
}
