/** devbind: dpdk-devbind's --status, --bind and --unbind on {@link io.jnic.pci.PciDriverBinder}. */
package io.jnic.apps.devbind;
