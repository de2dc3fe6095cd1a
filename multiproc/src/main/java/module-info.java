/** The runtime: EAL options, primary/secondary, lcores, IPC, telemetry; it knows no port or driver. */
module io.jnic.multiproc {
    requires transitive io.jnic.memory;
    requires info.picocli;
    requires java.logging;
    requires java.management;
    requires jdk.jfr;

    exports io.jnic.multiproc;
    exports io.jnic.multiproc.ipc;
    exports io.jnic.multiproc.telemetry;

    opens io.jnic.multiproc to info.picocli;
}
