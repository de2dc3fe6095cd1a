package io.jnic.driver.ixgbe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnic.devsim.ixgbe.Ixgbe82599;
import io.jnic.ethdev.Flow;
import io.jnic.ethdev.FlowRule;
import io.jnic.ethdev.PortConfig;
import io.jnic.ethdev.RssConfig;
import io.jnic.ethdev.RssHashType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flow rules on the EtherType and 5-tuple filters: which RX queue frames reach, and what is refused. */
class IxgbeFlowsTest {
    @TempDir
    Path dir;

    private static final int NQ = 4;
    private static final int SRC = 0x0A000001;
    private static final int DST = 0x0A000002;

    private static int queueOf(Rig rig, IxgbeDevice a, IxgbeDevice b, byte[] frame, int tag) {
        Exchange.tag(frame, tag);
        Map<Integer, Exchange.Got> got = Exchange.run(rig, a, b, NQ, 0, frame);
        assertTrue(got.containsKey(tag), "frame " + tag + " did not arrive: " + got);
        return got.get(tag).queue();
    }

    private static IxgbeDevice[] ports(Rig rig) {
        IxgbeDevice a = rig.started(0, PortConfig.of(1, 1), 256);
        IxgbeDevice b = rig.started(1, PortConfig.of(NQ, 1)
                .withRss(RssConfig.of(EnumSet.of(RssHashType.IPV4, RssHashType.IPV4_UDP, RssHashType.IPV4_TCP))), 256);
        Rig.linksUp(a, b);
        return new IxgbeDevice[] {a, b};
    }

    @Test
    void etherTypeAndFiveTupleRulesSteerAheadOfRssAndDestroyRestoresIt() {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice[] p = ports(rig);
            IxgbeDevice a = p[0];
            IxgbeDevice b = p[1];
            byte[] me = b.macAddress().octets();
            // EtherType rule: non-IP frames go to queue 0 without it, to queue 2 with it
            assertEquals(0, queueOf(rig, a, b, Exchange.eth(me, 0x88B6, 0), 1));
            Flow et = b.flowCreate(FlowRule.etherType(0x88B6, 2));
            assertEquals(2, queueOf(rig, a, b, Exchange.eth(me, 0x88B6, 0), 2));
            assertEquals(0, queueOf(rig, a, b, Exchange.eth(me, 0x88B7, 0), 3), "another EtherType");
            // 5-tuple rule: the UDP flow's RSS queue, then the rule's, then RSS's again after destroy
            byte[] udp = Exchange.ipv4(me, SRC, DST, 17, 1000, 2000, 0);
            int rss = queueOf(rig, a, b, udp, 4);
            int target = (rss + 1) % NQ;
            Flow ft = b.flowCreate(FlowRule.fiveTuple(17, SRC, DST, 1000, 2000, target));
            assertEquals(target, queueOf(rig, a, b, udp, 5));
            assertEquals(rss, queueOf(rig, a, b, Exchange.ipv4(me, SRC, DST, 6, 1000, 2000, 0), 6), "TCP: no match");
            assertEquals(List.of(et, ft), b.flows());
            b.flowDestroy(ft);
            assertEquals(rss, queueOf(rig, a, b, udp, 7));
            b.flowDestroy(et);
            assertEquals(0, queueOf(rig, a, b, Exchange.eth(me, 0x88B6, 0), 8));
            assertEquals(List.of(), b.flows());
            IllegalArgumentException gone = assertThrows(IllegalArgumentException.class, () -> b.flowDestroy(et));
            assertTrue(gone.getMessage().contains("not installed"), gone.getMessage());
            // DROP rules: matching frames reach no queue (the model drops frames for a disabled queue, as the
            // 82599 does), the rest still arrive; destroy lets them through again
            long rnbc = b.xstat("rnbc");
            Flow dropEt = b.flowCreate(FlowRule.etherType(0x88B6, 0).drop());
            Flow dropUdp = b.flowCreate(FlowRule.fiveTuple(17, SRC, DST, 1000, 2000, 0).drop());
            Map<Integer, Exchange.Got> got = Exchange.run(rig, a, b, NQ, 0, Exchange.eth(me, 0x88B6, 20),
                    Exchange.ipv4(me, SRC, DST, 6, 1000, 2000, 22), Exchange.eth(me, 0x88B7, 23));
            Exchange.tag(udp, 21);
            got = new java.util.HashMap<>(got);
            got.putAll(Exchange.run(rig, a, b, NQ, 0, udp));
            assertEquals(java.util.Set.of(22, 23), got.keySet(), "the EtherType and UDP rules dropped theirs: " + got);
            assertEquals(2, b.xstat("rnbc") - rnbc, "counted where the 82599 counts them");
            b.flowDestroy(dropEt);
            b.flowDestroy(dropUdp);
            assertEquals(rss, queueOf(rig, a, b, udp, 24));
            // rules survive a restart (a global reset clears the filters)
            Flow again = b.flowCreate(FlowRule.fiveTuple(17, null, DST, -1, 2000, target));
            b.stop();
            b.start();
            Rig.linksUp(a, b);
            assertEquals(target, queueOf(rig, a, b, udp, 9));
            assertEquals(List.of(again), b.flows());
        }
    }

    @Test
    void theHigherPriorityRuleWinsWhereRulesOverlap() {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice[] p = ports(rig);
            IxgbeDevice a = p[0];
            IxgbeDevice b = p[1];
            byte[] me = b.macAddress().octets();
            Flow wide = b.flowCreate(FlowRule.fiveTuple(-1, null, DST, -1, -1, 1).withPriority(2));
            Flow narrow = b.flowCreate(FlowRule.fiveTuple(17, SRC, DST, 1000, 2000, 3).withPriority(6));
            byte[] both = Exchange.ipv4(me, SRC, DST, 17, 1000, 2000, 0);
            byte[] wideOnly = Exchange.ipv4(me, SRC, DST, 17, 1001, 2000, 0);
            assertEquals(3, queueOf(rig, a, b, both, 1));
            assertEquals(1, queueOf(rig, a, b, wideOnly, 2));
            b.flowDestroy(narrow);
            b.flowDestroy(wide);
            // the other way round: the wide rule outranks the narrow one, although created after it
            b.flowCreate(FlowRule.fiveTuple(17, SRC, DST, 1000, 2000, 3).withPriority(1));
            b.flowCreate(FlowRule.fiveTuple(-1, null, DST, -1, -1, 2).withPriority(7));
            assertEquals(2, queueOf(rig, a, b, both, 3));
            // an EtherType filter outranks every 5-tuple one (7.1.2); IPv4 itself cannot be one (see below)
            Flow et = b.flowCreate(FlowRule.etherType(0x88B6, 1));
            assertEquals(1, queueOf(rig, a, b, Exchange.eth(me, 0x88B6, 0), 4));
            b.flowDestroy(et);
        }
    }

    @Test
    void whatTheFiltersCannotHoldIsRefusedAndNothingIsWritten() {
        try (Rig rig = new Rig(dir, 2, "pair", 4096)) {
            IxgbeDevice[] p = ports(rig);
            IxgbeDevice b = p[1];
            Ixgbe82599 model = rig.sim.port(1);
            int[] empty = filterRegisters(model);
            IllegalArgumentException icmp = assertThrows(IllegalArgumentException.class,
                    () -> b.flowCreate(FlowRule.fiveTuple(1, SRC, null, -1, -1, 0)));
            assertTrue(icmp.getMessage().contains("TCP (6), UDP (17) and SCTP (132)"), icmp.getMessage());
            IllegalArgumentException ipv6 = assertThrows(IllegalArgumentException.class,
                    () -> b.flowCreate(FlowRule.etherType(0x86DD, 1)));
            assertTrue(ipv6.getMessage().contains("IPv6"), ipv6.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.flowCreate(FlowRule.fiveTuple(-1, SRC, DST, 5, -1, 0)));
            IllegalArgumentException queue = assertThrows(IllegalArgumentException.class,
                    () -> b.flowCreate(FlowRule.etherType(0x88B6, NQ)));
            assertTrue(queue.getMessage().contains("only " + NQ), queue.getMessage());
            assertArrayEquals(empty, filterRegisters(model), "a refused rule wrote nothing");
            assertEquals(List.of(), b.flows());

            // 128 5-tuple filters: the 129th is refused clearly and writes nothing
            List<Flow> made = new ArrayList<>();
            for (int i = 0; i < 128; i++) {
                made.add(b.flowCreate(FlowRule.fiveTuple(6, SRC, DST, 1000, 3000 + i, i % NQ)));
            }
            int[] full = filterRegisters(model);
            IllegalStateException no = assertThrows(IllegalStateException.class,
                    () -> b.flowCreate(FlowRule.fiveTuple(6, SRC, DST, 1000, 9999, 0)));
            assertTrue(no.getMessage().contains("all 128 5-tuple filters"), no.getMessage());
            assertArrayEquals(full, filterRegisters(model));
            assertEquals(made, b.flows());
            b.flowDestroy(made.get(77));
            Flow reused = b.flowCreate(FlowRule.fiveTuple(6, SRC, DST, 1000, 9999, 0));
            assertEquals(made.get(77).id(), reused.id(), "the freed slot");
            // 8 EtherType filters
            for (int i = 0; i < 8; i++) {
                b.flowCreate(FlowRule.etherType(0x9000 + i, 0));
            }
            IllegalStateException noEt = assertThrows(IllegalStateException.class,
                    () -> b.flowCreate(FlowRule.etherType(0x9100, 0)));
            assertTrue(noEt.getMessage().contains("EtherType filters (ETQF) are in use"), noEt.getMessage());
            IllegalStateException dup = assertThrows(IllegalStateException.class,
                    () -> b.flowValidate(FlowRule.etherType(0x9003, 1)));
            assertTrue(dup.getMessage().contains("already has a rule"), dup.getMessage());
            // time sync needs ETQF[3], which a rule holds now
            IllegalStateException ts = assertThrows(IllegalStateException.class, b::timesyncEnable);
            assertTrue(ts.getMessage().contains("destroy that rule first"), ts.getMessage());
            assertNotEquals(0, b.flows().size());
        }
    }

    /** Every EtherType and 5-tuple filter register of the model. */
    private static int[] filterRegisters(Ixgbe82599 model) {
        int[] r = new int[16 + 5 * 128];
        int k = 0;
        for (int i = 0; i < 8; i++) {
            r[k++] = model.read32(0x05128 + 4L * i);
            r[k++] = model.read32(0x0EC00 + 4L * i);
        }
        for (int base = 0x0E000; base < 0x0EA00; base += 0x200) {
            for (int i = 0; i < 128; i++) {
                r[k++] = model.read32(base + 4L * i);
            }
        }
        return r;
    }
}
