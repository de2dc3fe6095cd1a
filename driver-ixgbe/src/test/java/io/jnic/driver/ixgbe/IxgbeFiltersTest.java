package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.Ixgbe82599;
import io.jnic.ethdev.FlowControl;
import io.jnic.ethdev.LinkSettings;
import io.jnic.ethdev.MacAddress;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RxOffload;
import io.jnic.pci.PciDevice;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run-time receive filters, link settings and flow control: what the simulated port accepts after each call. */
class IxgbeFiltersTest {
    @TempDir
    Path dir;

    private static final byte[] GROUP = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x05};
    /** Another group whose MTA bit (address bits 47:36) differs from GROUP's. */
    private static final byte[] OTHER_GROUP = {0x01, 0x00, 0x5e, 0x00, 0x70, 0x33};
    private static final byte[] UNICAST = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

    private static Set<Integer> arrived(Rig rig, IxgbeDevice a, IxgbeDevice b, byte[]... frames) {
        return Exchange.run(rig, a, b, 1, 0, frames).keySet();
    }

    @Test
    void multicastGroupsPassOnlyWhenListedOrWithAllMulticast() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 256);
            Rig.linksUp(a, b);
            assertEquals(Set.of(), arrived(rig, a, b, Exchange.eth(GROUP, 0x88B5, 1), Exchange.eth(OTHER_GROUP, 0x88B5, 2)));
            b.multicastAddresses(List.of(MacAddress.of(GROUP)));
            assertEquals(Set.of(3), arrived(rig, a, b, Exchange.eth(GROUP, 0x88B5, 3), Exchange.eth(OTHER_GROUP, 0x88B5, 4)));
            b.allmulticast(true);
            assertTrue(b.allmulticast());
            assertEquals(Set.of(5, 6), arrived(rig, a, b, Exchange.eth(GROUP, 0x88B5, 5), Exchange.eth(OTHER_GROUP, 0x88B5, 6)));
            b.allmulticast(false);
            assertFalse(b.allmulticast());
            b.multicastAddresses(List.of());
            assertEquals(Set.of(), arrived(rig, a, b, Exchange.eth(GROUP, 0x88B5, 7), Exchange.eth(OTHER_GROUP, 0x88B5, 8)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> b.multicastAddresses(List.of(MacAddress.of(UNICAST))));
            assertTrue(e.getMessage().contains("not a multicast address"), e.getMessage());
            // the list survives a restart (a global reset clears MTA)
            b.multicastAddresses(List.of(MacAddress.of(OTHER_GROUP)));
            b.stop();
            b.start();
            Rig.linksUp(a, b);
            assertEquals(Set.of(10), arrived(rig, a, b, Exchange.eth(GROUP, 0x88B5, 9), Exchange.eth(OTHER_GROUP, 0x88B5, 10)));
        }
    }

    @Test
    void addedUnicastAddressesPassUntilRemovedAndTheSlotsRunOutClearly() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 256);
            Rig.linksUp(a, b);
            assertFalse(b.promiscuous());
            assertEquals(Set.of(), arrived(rig, a, b, Exchange.eth(UNICAST, 0x88B5, 1)));
            b.macAddrAdd(MacAddress.of(UNICAST));
            assertEquals(Set.of(2), arrived(rig, a, b, Exchange.eth(UNICAST, 0x88B5, 2)));
            b.macAddrRemove(MacAddress.of(UNICAST));
            assertEquals(Set.of(), arrived(rig, a, b, Exchange.eth(UNICAST, 0x88B5, 3)));
            IllegalArgumentException notAdded = assertThrows(IllegalArgumentException.class,
                    () -> b.macAddrRemove(MacAddress.of(UNICAST)));
            assertTrue(notAdded.getMessage().contains("was not added"), notAdded.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.macAddrAdd(MacAddress.of(GROUP)));
            // 127 extra slots (RAR 1-127): the 128th add fails, saying so, and writes nothing
            for (int i = 0; i < 127; i++) {
                b.macAddrAdd(MacAddress.of(new byte[] {0x02, 0x33, 0, 0, (byte) (i >>> 8), (byte) i}));
            }
            Ixgbe82599 model = rig.sim.port(1);
            int[] before = rar(model);
            IllegalStateException full = assertThrows(IllegalStateException.class,
                    () -> b.macAddrAdd(MacAddress.of(UNICAST)));
            assertTrue(full.getMessage().contains("127 extra unicast address filters"), full.getMessage());
            assertArrayEquals(before, rar(model));
            b.macAddrRemove(MacAddress.of(new byte[] {0x02, 0x33, 0, 0, 0, 42}));
            b.macAddrAdd(MacAddress.of(UNICAST)); // the freed slot
            assertEquals(Set.of(4), arrived(rig, a, b, Exchange.eth(UNICAST, 0x88B5, 4),
                    Exchange.eth(new byte[] {0x02, 0x33, 0, 0, 0, 42}, 0x88B5, 5)));
        }
    }

    private static int[] rar(Ixgbe82599 model) {
        int[] r = new int[256];
        for (int i = 0; i < 256; i++) {
            r[i] = model.read32(0x0A200 + 4L * i);
        }
        return r;
    }

    @Test
    void theVlanFilterDropsVlansNotLetIn() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1).withRxOffloads(EnumSet.of(RxOffload.VLAN_FILTER)), 256);
            Rig.linksUp(a, b);
            assertTrue(b.info().rxOffloads().contains(RxOffload.VLAN_FILTER));
            byte[] me = b.macAddress().octets();
            assertEquals(Set.of(3), arrived(rig, a, b, Exchange.vlan(me, 100, 1), Exchange.vlan(me, 200, 2),
                    Exchange.eth(me, 0x88B5, 3)));
            b.vlanFilter(100, true);
            assertEquals(Set.of(4, 6), arrived(rig, a, b, Exchange.vlan(me, 100, 4), Exchange.vlan(me, 200, 5),
                    Exchange.eth(me, 0x88B5, 6)));
            b.vlanFilter(100, false);
            b.vlanFilter(200, true);
            assertEquals(Set.of(8), arrived(rig, a, b, Exchange.vlan(me, 100, 7), Exchange.vlan(me, 200, 8)));
            assertThrows(IllegalArgumentException.class, () -> b.vlanFilter(4096, true));
            // without VLAN_FILTER in the configuration, every VLAN passes and vlanFilter says what to do
            IllegalStateException off = assertThrows(IllegalStateException.class, () -> a.vlanFilter(100, true));
            assertTrue(off.getMessage().contains("VLAN_FILTER"), off.getMessage());
            assertEquals(Set.of(9), Exchange.run(rig, b, a, 1, 0, Exchange.vlan(a.macAddress().octets(), 300, 9)).keySet());
        }
    }

    @Test
    void flowControlDecidesWhetherPauseFramesStopTransmission() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
            IxgbeDevice b = rig.started(1, PortConfig.of(1, 1), 256);
            Rig.linksUp(a, b);
            Ixgbe82599 model = rig.sim.port(1);
            b.allmulticast(true); // so that a pause frame the MAC does not honour reaches the host
            assertEquals(FlowControl.NONE, b.flowControl());
            assertEquals(Set.of(1), arrived(rig, a, b, pause(0xFFFF, 1)));
            assertArrayEquals(new long[] {0, 0}, model.pauseFramesHonoured());
            b.flowControl(FlowControl.RX_PAUSE);
            assertEquals(FlowControl.RX_PAUSE, b.flowControl());
            // honoured: consumed by the MAC (never reaches a queue), transmission held, then released by XON
            assertEquals(Set.of(), arrived(rig, a, b, pause(0xFFFF, 2), pause(0, 3)));
            assertArrayEquals(new long[] {1, 1}, model.pauseFramesHonoured());
            assertFalse(model.txPaused());
            // TX_PAUSE alone does not honour received pause frames; it arms the XOFF threshold (FCRTH.FCEN)
            b.flowControl(FlowControl.TX_PAUSE);
            assertEquals(Set.of(4), arrived(rig, a, b, pause(0xFFFF, 4)));
            assertTrue((model.read32(0x03260) & (1 << 31)) != 0, "FCRTH[0].FCEN");
            assertEquals(1 << 3, model.read32(0x03D00) & (3 << 3), "FCCFG.TFCE = 802.3x");
            b.flowControl(FlowControl.FULL);
            assertEquals(Set.of(), arrived(rig, a, b, pause(0x10, 5)));
            assertArrayEquals(new long[] {2, 1}, model.pauseFramesHonoured());
            assertThrows(NullPointerException.class, () -> b.flowControl(null));
        }
    }

    private static byte[] pause(int quanta, int tag) {
        byte[] f = Exchange.eth(new byte[] {0x01, (byte) 0x80, (byte) 0xC2, 0, 0, 0x01}, 0x8808, tag);
        f[14] = 0;
        f[15] = 1; // PAUSE
        f[16] = (byte) (quanta >>> 8);
        f[17] = (byte) quanta;
        return f;
    }

    @Test
    void linkSettingsTakeTenGigFixedOrAutonegAndRefuseOtherSpeeds() {
        try (Rig rig = new Rig(dir, 1, "loop", 1024)) {
            IxgbeDevice d = rig.started(0, PortConfig.of(1, 1), 256);
            Ixgbe82599 model = rig.sim.port(0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.linkSettings(LinkSettings.fixed(1000)));
            assertTrue(e.getMessage().contains("1000 Mb/s") && e.getMessage().contains("fixed(10000)"), e.getMessage());
            assertEquals(LinkSettings.AUTONEG, d.linkSettings());
            assertEquals(3 << 13, model.read32(0x042A0) & (7 << 13), "AUTOC.LMS untouched: 10G serial");
            d.linkSettings(LinkSettings.fixed(10_000));
            assertEquals(1 << 13, model.read32(0x042A0) & (7 << 13), "AUTOC.LMS = 10G without AN");
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
            assertEquals(10_000, d.link().speedMbps());
            d.linkSettings(LinkSettings.AUTONEG);
            assertEquals(3 << 13, model.read32(0x042A0) & (7 << 13));
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
        }
    }

    @Test
    void x540AndX550AreRefusedAtProbeNamingThePart() {
        try (Rig rig = new Rig(dir, 1, "loop", 256)) {
            for (int id : new int[] {IxgbeDeviceIds.IXGBE_X540T, IxgbeDeviceIds.IXGBE_X550T}) {
                RegisterFileDevice regs = new RegisterFileDevice();
                PciDevice fake = (PciDevice) Proxy.newProxyInstance(PciDevice.class.getClassLoader(),
                        new Class<?>[] {PciDevice.class}, (p, m, args) -> {
                            if (m.getName().equals("configRead") && (int) args[0] == 2) {
                                return id;
                            }
                            try {
                                return m.invoke(regs, args);
                            } catch (java.lang.reflect.InvocationTargetException x) {
                                throw x.getCause();
                            }
                        });
                Throwable t = assertThrows(RuntimeException.class, () -> rig.ports.probe(fake));
                String msg = String.valueOf(t.getMessage()) + (t.getCause() == null ? "" : t.getCause().getMessage());
                assertTrue(msg.contains(id == IxgbeDeviceIds.IXGBE_X540T ? "X540-T" : "X550-T")
                        && msg.contains("only the 82599 family"), msg);
                assertEquals(0, rig.ports.ports().size(), "no port was added");
            }
        }
    }

    static Map<Integer, Exchange.Got> run(Rig rig, IxgbeDevice a, IxgbeDevice b, int nq, byte[]... frames) {
        return Exchange.run(rig, a, b, nq, 0, frames);
    }
}
