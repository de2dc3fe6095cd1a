/** PCI devices and their transports (VFIO, UIO, vfio-user); memory only for physical addresses (Pagemap). */
module io.jnic.pci {
    requires transitive io.jnic.sys;
    requires io.jnic.memory;

    exports io.jnic.pci;
    exports io.jnic.pci.uio;
    exports io.jnic.pci.vfio;
    exports io.jnic.pci.vfiouser;
}
