package io.jnic.pci;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Walks a function's capability lists: the standard list from the pointer at 0x34 (PCI 3.0 section 6.7)
 * and, when the access reaches 4 KiB of configuration space, the PCIe extended list from 0x100 (PCIe Base
 * Specification section 7.6). Pointers come from the device, so each is checked (range, alignment, loops)
 * before it is followed; a broken list ends the walk with what was found so far and a logged warning.
 */
public final class PciCapabilities {
    private static final System.Logger LOG = System.getLogger(PciCapabilities.class.getName());
    private static final int FIRST_STANDARD = 0x40;
    private static final int MAX_STANDARD = (PciConfig.CONVENTIONAL_SIZE - FIRST_STANDARD) / 4;
    private static final int MAX_EXTENDED = (PciConfig.EXTENDED_SIZE - PciConfig.CONVENTIONAL_SIZE) / 4;

    private final List<PciCapability> all;

    private PciCapabilities(List<PciCapability> all) {
        this.all = List.copyOf(all);
    }

    public static PciCapabilities of(PciDevice device) {
        return read(device instanceof PciConfigAccess a ? a : PciConfigAccess.of(device));
    }

    public static PciCapabilities read(PciConfigAccess access) {
        List<PciCapability> caps = new ArrayList<>();
        walkStandard(access, caps);
        if (access.configSize() >= PciConfig.EXTENDED_SIZE) {
            walkExtended(access, caps);
        }
        return new PciCapabilities(caps);
    }

    /** Every capability, standard ones first, each list in the order the device links them. */
    public List<PciCapability> all() {
        return all;
    }

    /** The first standard capability with {@code id}. */
    public Optional<PciCapability> find(int id) {
        return all.stream().filter(c -> !c.extended() && c.id() == id).findFirst();
    }

    /** Every standard capability with {@code id} (vendor-specific ones repeat: virtio has several). */
    public List<PciCapability> findAll(int id) {
        return all.stream().filter(c -> !c.extended() && c.id() == id).toList();
    }

    public Optional<PciCapability> findExtended(int id) {
        return all.stream().filter(c -> c.extended() && c.id() == id).findFirst();
    }

    public Optional<PciCapability.Msix> msix() {
        return find(PciCapability.ID_MSIX).map(PciCapability::asMsix);
    }

    public Optional<PciCapability.Msi> msi() {
        return find(PciCapability.ID_MSI).map(PciCapability::asMsi);
    }

    public Optional<PciCapability.PciExpress> pciExpress() {
        return find(PciCapability.ID_PCI_EXPRESS).map(PciCapability::asPciExpress);
    }

    @Override
    public String toString() {
        return all.toString();
    }

    private static void walkStandard(PciConfigAccess access, List<PciCapability> out) {
        if ((access.configRead(PciConfig.STATUS, 2) & PciConfig.STATUS_CAPABILITIES_LIST) == 0) {
            return;
        }
        boolean[] seen = new boolean[PciConfig.CONVENTIONAL_SIZE];
        int ptr = access.configRead(PciConfig.CAPABILITIES_POINTER, 1) & 0xfc; // low 2 bits reserved
        while (ptr != 0) {
            if (ptr < FIRST_STANDARD || ptr > PciConfig.CONVENTIONAL_SIZE - 4 || seen[ptr] || out.size() >= MAX_STANDARD) {
                LOG.log(System.Logger.Level.WARNING, "capability list broken at pointer 0x{0}; stopping the walk",
                        Integer.toHexString(ptr));
                return;
            }
            seen[ptr] = true;
            int header = access.configRead(ptr, 2);
            out.add(new PciCapability(header & 0xff, ptr, false, 0, access));
            ptr = (header >> 8) & 0xfc;
        }
    }

    private static void walkExtended(PciConfigAccess access, List<PciCapability> out) {
        boolean[] seen = new boolean[PciConfig.EXTENDED_SIZE];
        int ptr = PciConfig.EXTENDED_CAPABILITIES;
        int found = 0;
        while (ptr != 0) {
            if (ptr < PciConfig.EXTENDED_CAPABILITIES || ptr > PciConfig.EXTENDED_SIZE - 4 || seen[ptr]
                    || found >= MAX_EXTENDED) {
                LOG.log(System.Logger.Level.WARNING, "extended capability list broken at 0x{0}; stopping the walk",
                        Integer.toHexString(ptr));
                return;
            }
            seen[ptr] = true;
            int header = access.configRead(ptr, 4);
            // All zeros (none) or all ones (no extended space behind a conventional bridge) end the list.
            if (header == 0 || header == -1) {
                return;
            }
            out.add(new PciCapability(header & 0xffff, ptr, true, (header >>> 16) & 0xf, access));
            found++;
            ptr = (header >>> 20) & 0xffc;
        }
    }
}
