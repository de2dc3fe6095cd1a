/** {@link io.jnic.driver.virtio.tools.VirtioUserPerf}: the jnic side of bench/scripts/virtio-vs-dpdk.sh. */
package io.jnic.driver.virtio.tools;
