#!/usr/bin/env bash
# Builds the test bed's initramfs: busybox, the guest's /init, and the kernel modules the tests need,
# taken from the Debian kernel installed on this machine.
#   build-initramfs.sh WORKDIR KERNEL_VERSION   -> WORKDIR/initramfs.cpio.gz
set -euo pipefail
D=$1
K=$2
here=$(cd "$(dirname "$0")" && pwd)
R=$D/rootfs
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,host,etc,lib/modules/"$K"}
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
# vfio_iommu_type1 is a soft dependency of vfio that busybox's modprobe would not follow: name it.
# JNIC_TESTBED_MODULES adds modules (with their dependencies) for a guest that needs more (ixgbe).
MODS="vfio vfio_iommu_type1 vfio_pci uio_pci_generic virtio_pci virtio_net e1000e 9p 9pnet_virtio ${JNIC_TESTBED_MODULES:-}"
for m in $MODS; do
  modprobe -S "$K" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r f; do
  rel=${f#/lib/modules/$K/}
  mkdir -p "$R/lib/modules/$K/$(dirname "$rel")"
  cp "$f" "$R/lib/modules/$K/$rel"
done
cp /lib/modules/"$K"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$K/" 2>/dev/null || true
depmod -b "$R" "$K"
cp "$here/init" "$R/init"
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$D/initramfs.cpio.gz"
