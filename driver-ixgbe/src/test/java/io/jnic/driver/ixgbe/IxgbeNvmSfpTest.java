package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.EepromImage;
import io.jnic.devsim.ixgbe.Ixgbe82599;
import io.jnic.devsim.ixgbe.SfpModule;
import io.jnic.pci.vfiouser.VfioUserDevice;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Probe as on a real card: the NVM checksum, the semaphores, the SFP+ module over I2C and its init sequence. */
class IxgbeNvmSfpTest {
    private static final int EEWR = 0x10014 + 4;
    private static final int SW_FW_SYNC = 0x10160;
    private static final int SWSM = 0x10140;

    @TempDir
    Path dir;

    /** Probes port {@code p} expecting a refusal; returns its message (the device is closed). */
    private static String refused(Rig rig, int p) {
        VfioUserDevice pci = VfioUserDevice.connect(rig.sockets.get(p));
        try {
            return assertThrows(IllegalStateException.class, () -> rig.ports.probe(pci)).getMessage();
        } finally {
            pci.close();
        }
    }

    @Test
    void probeIdentifiesTheModuleRunsItsInitSequenceAndReleasesTheSemaphores() {
        try (Rig rig = new Rig(dir, 2, "pair", 2048)) {
            IxgbeDevice d = rig.probe(0);
            String m = d.sfpModule();
            assertTrue(m != null && m.startsWith("10GBASE-SR module " + SfpModule.VENDOR + " " + SfpModule.PART_NUMBER),
                    "module " + m);
            Ixgbe82599 dev = rig.sim.port(0);
            assertEquals(4, dev.corectlWrites(), "the NVM's SR init sequence went to CORECTL");
            assertEquals(0, dev.read32(SW_FW_SYNC), "every SW_FW_SYNC resource released");
            assertTrue(d.waitLink(Duration.ofSeconds(10)).up());
        }
    }

    @Test
    void aCorruptNvmIsRefusedWithTheChecksums() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            Ixgbe82599 dev = rig.sim.port(0);
            EepromImage img = dev.eeprom();
            int analog = img.word(EepromImage.PCIE_ANALOG_PTR) + 1; // a word the checksum covers
            dev.write32(EEWR, (img.word(analog) ^ 0x0100) << 16 | analog << 2 | 1);
            String msg = refused(rig, 0);
            assertTrue(msg.contains("the EEPROM checksum is not valid (word 0x3F holds 0x"), msg);
            assertTrue(msg.contains("restore the NVM image"), msg);
            assertEquals(0, dev.read32(SW_FW_SYNC), "the EEPROM semaphore was released on the way out");
        }
    }

    @Test
    void anUnsupportedModuleIsRefusedAndNamed() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            SfpModule mod = rig.sim.port(0).sfpModule();
            mod.program(SfpModule.COMPLIANCE_10G, 0); // neither SR nor LR
            mod.program(SfpModule.CABLE_TECHNOLOGY, 0); // nor a passive cable
            String msg = refused(rig, 0);
            assertTrue(msg.contains("unsupported SFP+ module '" + SfpModule.VENDOR + "' part '" + SfpModule.PART_NUMBER),
                    msg);
            assertEquals(0, rig.sim.port(0).read32(SW_FW_SYNC), "the PHY semaphore was released");
        }
    }

    @Test
    void aHolderThatDiedWithTheSemaphoresDoesNotLockTheDriverOut() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            Ixgbe82599 dev = rig.sim.port(0);
            // a driver killed in the middle: it took SWSM (SMBI by reading, SWESMBI by writing) and the PHY0
            // resource, and released nothing
            assertEquals(0, dev.read32(SWSM) & 1, "SMBI was free");
            dev.write32(SWSM, 0x3);
            dev.write32(SW_FW_SYNC, 0x2);
            long t0 = System.nanoTime();
            IxgbeDevice d = rig.probe(0);
            assertTrue(d.sfpModule() != null, "the module was identified after the stale holder was overridden");
            assertEquals(0, dev.read32(SW_FW_SYNC), "nothing left held");
            System.out.printf("probe past a dead semaphore holder took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    @Test
    void anEmptyCageProbesWithTheLinkDown() {
        try (Rig rig = new Rig(dir, 1, "loop", 2048)) {
            rig.sim.port(0).sfpPresent(false);
            IxgbeDevice d = rig.probe(0);
            assertNull(d.sfpModule());
            assertFalse(d.link().up(), "no module, no link");
        }
    }
}
