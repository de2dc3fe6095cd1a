/** The virtio-net driver: over PCI and over vhost-user (virtio-user); its internals stay inside. */
module io.jnic.driver.virtio {
    requires transitive io.jnic.ethdev;

    exports io.jnic.driver.virtio;

    provides io.jnic.ethdev.EthDriver with io.jnic.driver.virtio.ethdev.VirtioPciDriver;
    provides io.jnic.ethdev.VdevDriver with io.jnic.driver.virtio.ethdev.VirtioUserDriver,
            io.jnic.driver.virtio.ethdev.VirtioUserDriver.Alias;
}
