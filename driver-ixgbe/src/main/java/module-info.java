/** The 82599 driver; found through ServiceLoader, its queues are the Intel kit's. */
module io.jnic.driver.ixgbe {
    requires transitive io.jnic.ethdev;
    requires io.jnic.driver.intel;

    exports io.jnic.driver.ixgbe;

    provides io.jnic.ethdev.EthDriver with io.jnic.driver.ixgbe.IxgbeDriver;
}
