package io.jnic.apps.devbind;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Vendor and device names from the pci.ids database (pciutils), when the machine has one. */
final class PciIds {
    static final List<Path> LOCATIONS = List.of(Path.of("/usr/share/misc/pci.ids"), Path.of("/usr/share/hwdata/pci.ids"));

    private final Map<Integer, String> vendors = new HashMap<>();
    private final Map<Integer, String> devices = new HashMap<>();

    static PciIds load() {
        PciIds ids = new PciIds();
        for (Path p : LOCATIONS) {
            if (Files.isReadable(p)) {
                ids.parse(p);
                break;
            }
        }
        return ids;
    }

    private void parse(Path p) {
        List<String> lines;
        try {
            lines = Files.readAllLines(p, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return; // names are a nicety
        }
        int vendor = -1;
        for (String l : lines) {
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("C ")) {
                break; // the class list follows the vendors
            }
            try {
                if (l.charAt(0) != '\t' && l.length() > 6) {
                    vendor = Integer.parseInt(l.substring(0, 4), 16);
                    vendors.put(vendor, l.substring(6).strip());
                } else if (l.startsWith("\t") && !l.startsWith("\t\t") && vendor >= 0 && l.length() > 7) {
                    devices.put((vendor << 16) | Integer.parseInt(l.substring(1, 5), 16), l.substring(7).strip());
                }
            } catch (NumberFormatException e) {
                vendor = -1;
            }
        }
    }

    /** "82574L Gigabit Network Connection 10d3", as dpdk-devbind shows devices, or just the id. */
    String deviceName(int vendor, int device) {
        String d = devices.get((vendor << 16) | device);
        return d == null ? String.format("%04x:%04x", vendor, device) : d + String.format(" %04x", device);
    }
}
