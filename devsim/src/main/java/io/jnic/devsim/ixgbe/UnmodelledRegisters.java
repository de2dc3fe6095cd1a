package io.jnic.devsim.ixgbe;

import java.util.Map;
import java.util.TreeMap;

/**
 * The registers a driver touched that the model does not implement: each is logged once when first read or
 * written (name where known, offset, read or write), and {@link #report} lists them all with what was done to
 * them, so that the next gap a real driver hits is visible (devsim's {@code unmodelled} control command, and the
 * log at exit). Names and offsets are the datasheet's (chapter 8.2.3).
 */
public final class UnmodelledRegisters {
    private static final System.Logger LOG = System.getLogger(UnmodelledRegisters.class.getName());

    private static final Map<Integer, String> NAMES = new TreeMap<>();

    static {
        name(0x00200, "LEDCTL");
        name(0x0004C, "TCPTIMER");
        name(0x00894, "EITRSEL");
        name(0x02430, "RTRPCS");
        name(0x02F04, "QDE");
        name(0x02F90, "B2OGPRC");
        name(0x03020, "RTRUP2TC");
        name(0x032A0, "FCRTV");
        name(0x04034, "MLFC");
        name(0x04038, "MRFC");
        name(0x040B4, "MNGPRC");
        name(0x040B8, "MNGPDC");
        name(0x041A4, "LXONRXCNT");
        name(0x041A8, "LXOFFRXCNT");
        name(0x041C0, "B2OSPC");
        name(0x041C4, "O2BGPTC");
        name(0x04200, "PCS1GCFIG");
        name(0x04208, "PCS1GLCTL");
        name(0x0420C, "PCS1GLSTA");
        name(0x04218, "PCS1GANA");
        name(0x0421C, "PCS1GANLP");
        name(0x04244, "HLREG1");
        name(0x04248, "PAP");
        name(0x04250, "APAE");
        name(0x04254, "ARD");
        name(0x0425C, "MSCA");
        name(0x04260, "MSRWD");
        name(0x04290, "XPCSS");
        name(0x0429C, "MACS");
        name(0x042AC, "AUTOC3");
        name(0x042B4, "ANLP2");
        name(0x042D0, "MMNGC");
        name(0x04324, "LINKS2");
        name(0x04330, "MACC");
        name(0x04800, "ATLASCTL");
        name(0x04904, "RTTDQSEL");
        name(0x04984, "RTTBCNRC");
        name(0x051B0, "PFVTCTL");
        name(0x051B8, "RXFECCERR0");
        name(0x05188, "TSYNCRXCTL");
        name(0x05820, "MANC");
        name(0x07E00, "DTXCTL");
        name(0x08220, "PFDTXGSWC");
        name(0x08804, "SECTXSTAT");
        name(0x08810, "SECTXMINIFG");
        name(0x08C00, "TSYNCTXCTL");
        name(0x08C14, "TIMINCA");
        name(0x0C800, "RTTUP2TC");
        name(0x0CD10, "MNGTXMAP");
        name(0x0CF90, "MNGPTC");
        name(0x0EE00, "FDIRCTRL");
        name(0x0EE68, "FDIRHKEY");
        name(0x0EE6C, "FDIRSKEY");
        name(0x10110, "EEMNGCTL");
        name(0x10114, "EEMNGDATA");
        name(0x10118, "FLMNGCTL");
        name(0x1001C, "FLA");
        name(0x10150, "FACTPS");
        name(0x10200, "GRC");
        name(0x11000, "GCR");
        name(0x11010, "GSCL_1");
        name(0x11020, "GSCN_0");
        name(0x11040, "PCIEANACTL");
        name(0x11050, "GCR_EXT");
        for (int i = 0; i < 8; i++) {
            name(0x03F00 + 4 * i, "PXONTXC[" + i + "]");
            name(0x03F20 + 4 * i, "PXOFFTXC[" + i + "]");
            name(0x04140 + 4 * i, "PXONRXCNT[" + i + "]");
            name(0x04160 + 4 * i, "PXOFFRXCNT[" + i + "]");
            name(0x03240 + 4 * i, "PXON2OFFCNT[" + i + "]");
            name(0x05128 + 4 * i, "ETQF[" + i + "]");
            name(0x0EC00 + 4 * i, "ETQS[" + i + "]");
        }
        name(0x03F60, "LXONTXC");
        name(0x03F68, "LXOFFTXC");
    }

    private static void name(int offset, String n) {
        NAMES.put(offset, n);
    }

    /** The register's name where this table knows it, else null. */
    public static String nameOf(int offset) {
        return NAMES.get(offset);
    }

    private static final int READ = 1;
    private static final int WRITE = 2;

    private final String port;
    private final TreeMap<Integer, long[]> seen = new TreeMap<>(); // offset -> {kinds, reads, writes, last value}

    public UnmodelledRegisters(String port) {
        this.port = port;
    }

    /** A read of an unmodelled register (it returns 0). */
    public synchronized void read(int offset) {
        touch(offset, READ, 0);
    }

    /** A write of an unmodelled register (the value is dropped). */
    public synchronized void write(int offset, int value) {
        touch(offset, WRITE, value);
    }

    private void touch(int offset, int kind, int value) {
        long[] e = seen.computeIfAbsent(offset, k -> new long[4]);
        boolean first = (e[0] & kind) == 0;
        e[0] |= kind;
        if (kind == READ) {
            e[1]++;
        } else {
            e[2]++;
            e[3] = value & 0xFFFFFFFFL;
        }
        if (first) {
            LOG.log(System.Logger.Level.INFO, "{0}: register {1} is not modelled: {2}", port, label(offset),
                    kind == READ ? "read (reads 0)" : "write of 0x" + Integer.toHexString(value) + " (dropped)");
        }
    }

    private static String label(int offset) {
        String n = nameOf(offset);
        String hex = String.format("0x%05X", offset);
        return n == null ? hex : n + " (" + hex + ")";
    }

    /** Number of distinct unmodelled registers touched. */
    public synchronized int count() {
        return seen.size();
    }

    /** True when {@code offset} was touched. */
    public synchronized boolean touched(int offset) {
        return seen.containsKey(offset);
    }

    /** One line per register: label, reads, writes and the last value written. Empty when none. */
    public synchronized String report() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Integer, long[]> en : seen.entrySet()) {
            long[] e = en.getValue();
            sb.append(port).append(": ").append(label(en.getKey())).append(':');
            if (e[1] > 0) {
                sb.append(" read ").append(e[1]).append('x');
            }
            if (e[2] > 0) {
                sb.append(" written ").append(e[2]).append("x (last 0x").append(Long.toHexString(e[3])).append(')');
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
