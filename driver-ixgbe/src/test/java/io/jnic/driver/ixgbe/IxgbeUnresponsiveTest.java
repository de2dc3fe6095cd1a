package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnic.ethdev.EthPorts;
import io.jnic.memory.IovaMode;
import io.jnic.memory.MemoryConfig;
import io.jnic.memory.MemoryGroup;
import io.jnic.sys.Proc;
import io.jnic.sys.testing.TestResources;
import io.jnic.testsupport.ethdev.RegisterFileDevice;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A device that never finishes its EEPROM auto-read: probe gives up after its timeout, naming what it waited for. */
class IxgbeUnresponsiveTest {
    private static final int EEC = 0x10010;

    @TempDir
    Path dir;

    @Test
    void aDeviceThatNeverSetsABitIsRefusedNamingTheRegisterAndWhatToCheck() {
        TestResources.assumeLockable(8 << 20);
        try (MemoryGroup mem = MemoryGroup.create(MemoryConfig.builder().filePrefix("unr" + Proc.getpid() + "_")
                .runtimeDir(dir).noHuge().size(8 << 20).iovaMode(IovaMode.ASSIGNED).build());
                EthPorts ports = new EthPorts(mem)) {
            RegisterFileDevice regs = new RegisterFileDevice();
            regs.bar(0).write32(EEC, 0); // EEC.ARD never comes
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ports.probe(regs));
            assertEquals(regs.name() + " (net_ixgbe): timed out after 1000 ms waiting for EEC.ARD (EEPROM auto-read "
                    + "done, 4.6.3); register 0x10010 of BAR 0 reads 0x00000000 (bits 0x00000200 should read 0x00000200). "
                    + "The device is not responding as the datasheet says: check that it is an 82599-family NIC and that no "
                    + "other driver uses it", e.getMessage());
        }
    }
}
