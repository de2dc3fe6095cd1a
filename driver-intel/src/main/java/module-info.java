/** The Intel advanced-descriptor queue kit. */
module io.jnic.driver.intel {
    requires transitive io.jnic.ethdev;

    exports io.jnic.driver.intel;
}
