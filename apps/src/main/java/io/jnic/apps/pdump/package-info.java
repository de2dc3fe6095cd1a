/** pdump: captures a running group's packets to pcapng (dpdk-pdump / dpdk-dumpcap). */
package io.jnic.apps.pdump;
