package io.jnic.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PciAddressTest {
    @Test
    void parsesFullForm() {
        PciAddress a = PciAddress.parse("0001:3b:1f.7");
        assertEquals(1, a.domain());
        assertEquals(0x3b, a.bus());
        assertEquals(0x1f, a.device());
        assertEquals(7, a.function());
        assertEquals("0001:3b:1f.7", a.toString());
    }

    @Test
    void shortFormMeansDomainZeroAndCanonicalFormIsLowerCasePadded() {
        PciAddress a = PciAddress.parse("3B:0.1");
        assertEquals(new PciAddress(0, 0x3b, 0, 1), a);
        assertEquals("0000:3b:00.1", a.toString());
        assertEquals("3b:00.1", a.toShortString());
        assertEquals(a, PciAddress.parse(a.toString()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0000:00:03|the '.function' part is missing",
        "00:03.8|the function 0x8 is above the maximum 0x7",
        "00:20.0|the device 0x20 is above the maximum 0x1f",
        "0000:100:00.0|the bus field '100' has more than 2 hex digits",
        "00000:00:00.0|the domain field '00000' has more than 4 hex digits",
        "0g:00.0|the bus field '0g' is not hexadecimal",
        "03.0|expected 2 or 3 ':'-separated fields before the '.', found 1",
        "0:0:0:0.0|expected 2 or 3 ':'-separated fields before the '.', found 4",
        "00::00.0|the bus field is empty",
        "00:.0|the device field is empty",
        "00:00.|the function field is empty",
    })
    void rejectsBadAddressesSayingWhatIsWrong(String text, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PciAddress.parse(text));
        assertTrue(e.getMessage().startsWith("invalid PCI address '" + text + "': " + why), e.getMessage());
        assertTrue(e.getMessage().contains("like 0000:03:00.1"), e.getMessage());
        assertFalse(PciAddress.isValid(text));
    }

    @Test
    void rejectsEmptyAndOutOfRangeComponents() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PciAddress.parse(" ")).getMessage().contains("it is empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PciAddress(0, 256, 0, 0)).getMessage()
                .contains("PCI bus 256 out of range 0..255"));
    }

    @Test
    void ordersByDomainBusDeviceFunction() {
        List<PciAddress> l = new ArrayList<>(List.of(PciAddress.parse("0001:00:00.0"), PciAddress.parse("00:1f.0"),
                PciAddress.parse("01:00.0"), PciAddress.parse("00:02.1"), PciAddress.parse("00:02.0")));
        Collections.sort(l);
        assertEquals("[0000:00:02.0, 0000:00:02.1, 0000:00:1f.0, 0000:01:00.0, 0001:00:00.0]", l.toString());
    }
}
