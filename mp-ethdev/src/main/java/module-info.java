/** Ports shared by a process group: ethdev and multiproc joined, naming no driver or PCI transport. */
module io.jnic.mp.ethdev {
    requires transitive io.jnic.ethdev;
    requires transitive io.jnic.multiproc;

    exports io.jnic.mp.ethdev;
    exports io.jnic.mp.ethdev.pdump;

    uses io.jnic.ethdev.EthDriver;
    uses io.jnic.ethdev.VdevDriver;
}
