/**
 * UIO transport for devices bound to uio_pci_generic: {@link io.jnic.pci.uio.UioPciDevice} maps BARs from
 * sysfs, DMAs by physical address (pinned hugepages) and takes INTx through /dev/uioN. Exercised against
 * a real kernel by testbed/run.sh.
 */
package io.jnic.pci.uio;
