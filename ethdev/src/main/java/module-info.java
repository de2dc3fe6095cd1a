/** The port API and the driver SPIs; net_null stays inside (it is reached through EthPorts.createVdev). */
module io.jnic.ethdev {
    requires transitive io.jnic.memory;
    requires transitive io.jnic.pci;

    exports io.jnic.ethdev;

    uses io.jnic.ethdev.EthDriver;
    uses io.jnic.ethdev.VdevDriver;
    provides io.jnic.ethdev.VdevDriver with io.jnic.ethdev.vdev.NullDriver;
}
