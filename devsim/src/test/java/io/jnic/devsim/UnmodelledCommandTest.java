package io.jnic.devsim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.SfpCage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control commands of the NVM/SFP work: 'unmodelled' lists the gaps drivers hit, 'sfp' empties the cage. */
class UnmodelledCommandTest {
    @TempDir
    Path dir;

    @Test
    void unmodelledListsEachRegisterWithItsNameAndAccesses() {
        try (Devsim d = Devsim.start(Devsim.Config.of(1, "loop"));
                ControlServer c = new ControlServer(d, dir.resolve("devsim.ctl"))) {
            assertEquals("ok\nno unmodelled register was touched", ControlServer.send(c.path(), "unmodelled"));
            d.port(0).read32(0x0425C); // MSCA: MDIO, not modelled
            d.port(0).read32(0x0425C);
            d.port(0).write32(0x0425C, 0x1234);
            d.port(0).read32(0x0F000); // nothing the table names
            String list = ControlServer.send(c.path(), "unmodelled");
            assertTrue(list.contains("port 0: MSCA (0x0425C): read 2x written 1x (last 0x1234)"), list);
            assertTrue(list.contains("port 0: 0x0F000: read 1x"), list);
            assertEquals(3, list.split("\n").length, list);
        }
    }

    @Test
    void sfpOutEmptiesTheCageAndInPlugsItBack() {
        try (Devsim d = Devsim.start(Devsim.Config.of(1, "loop"));
                ControlServer c = new ControlServer(d, dir.resolve("devsim.ctl"))) {
            assertEquals(SfpCage.SDP2, d.port(0).read32(SfpCage.ESDP) & SfpCage.SDP2);
            assertEquals("ok", ControlServer.send(c.path(), "sfp 0 out"));
            assertEquals(0, d.port(0).read32(SfpCage.ESDP) & SfpCage.SDP2);
            assertEquals("ok", ControlServer.send(c.path(), "sfp 0 in"));
            assertEquals(SfpCage.SDP2, d.port(0).read32(SfpCage.ESDP) & SfpCage.SDP2);
            assertEquals("error: sfp takes in or out, got 'maybe'", ControlServer.send(c.path(), "sfp 0 maybe"));
        }
    }
}
