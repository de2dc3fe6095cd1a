/** The apps users run: l2fwd-mp, testpmd, pktgen, devbind and the rest; nothing is exported. */
module io.jnic.apps {
    requires io.jnic.mp.ethdev;
    requires io.jnic.devsim;
    requires info.picocli;
    requires org.jline.reader;
    requires org.jline.terminal;
    requires HdrHistogram;
    requires jdk.management;

    uses io.jnic.ethdev.EthDriver;

    opens io.jnic.apps.clientserver to info.picocli;
    opens io.jnic.apps.common to info.picocli;
    opens io.jnic.apps.devbind to info.picocli;
    opens io.jnic.apps.l2fwd to info.picocli;
    opens io.jnic.apps.l2fwdfork to info.picocli;
    opens io.jnic.apps.l2fwdmp to info.picocli;
    opens io.jnic.apps.pdump to info.picocli;
    opens io.jnic.apps.pktgen to info.picocli;
    opens io.jnic.apps.procinfo to info.picocli;
    opens io.jnic.apps.simplemp to info.picocli;
    opens io.jnic.apps.testpmd to info.picocli;
}
