package io.jnic.driver.intel;

/**
 * Where a receive queue reads the IEEE 1588 arrival times its device latched (the 82599's RXSTMPL/H, 7.9.2.1): a
 * device holds one stamp at a time, which a read frees for the next frame. Only the process that maps the
 * registers has this; a queue another process drives gets none.
 */
public interface RxTimestamps {
    /** The EtherType filter index whose frames are PTP frames (pkt_info ETQF index of the write-back). */
    int ptpFilter();

    /** The latched arrival time, freeing the latch; -1 when none is latched (freed since the frame was stamped). */
    long take();
}
