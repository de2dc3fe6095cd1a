/** The simulated 82599 behind a vfio-user server: it knows pci's vfio-user framework, never a driver. */
module io.jnic.devsim {
    requires transitive io.jnic.pci;
    requires info.picocli;

    exports io.jnic.devsim;
    exports io.jnic.devsim.ixgbe;
    exports io.jnic.devsim.wire;

    opens io.jnic.devsim to info.picocli;
}
