#!/usr/bin/env bash
# virtio-net-pci through VFIO and UIO in the QEMU test bed (testbed/: its initramfs and /init, our own devices
# and guest script): two modern virtio-net-pci NICs on one QEMU hub, 00:03.0 behind the emulated VT-d
# (iommu_platform=on) bound to vfio-pci, 00:06.0 without it bound to uio_pci_generic; and two legacy-only ones
# (disable-modern=on: 1af4:1000, I/O BAR0, no virtio 1.x capabilities) on a second hub, 00:07.0 bound to
# vfio-pci and 00:08.0 to uio_pci_generic; and two modern ones with packed rings (packed=on) on a third hub, 00:09.0
# (behind the VT-d) bound to vfio-pci and 00:0a.0 to uio_pci_generic; and two modern ones on host TAP devices joined by
# a host bridge (QEMU then offers the checksum and segmentation offloads, and the host kernel carries them out),
# 00:0b.0 (behind the VT-d) bound to vfio-pci and 00:0c.0 to uio_pci_generic. The guest runs
# io.jnic.driver.virtio.testbed.VirtioGuestMain, which sends frames each way on each pair and checks every byte.
#   sudo driver-virtio/testbed-virtio.sh      (after ./jnic build -pl driver-virtio -am; ~2-4 min under TCG)
# Prints the @@T lines and exits non-zero unless every check passed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D=${JNIC_VTB_DIR:-/tmp/jnic-vtb}
K=$(ls /boot/vmlinuz-* | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
command -v qemu-system-x86_64 >/dev/null || { echo "needs qemu-system-x86 (see testbed/README.md)" >&2; exit 2; }
command -v ip >/dev/null || { echo "needs ip for its TAP devices: apt-get install -y iproute2" >&2; exit 2; }
. "$root/bin/find-jdk.sh"; jnic_find_jdk >/dev/null
test_classes=$root/driver-virtio/target/test-classes
[ -f "$test_classes/io/jnic/driver/virtio/testbed/VirtioGuestMain.class" ] || {
  (cd "$root" && ./jnic build -q -pl driver-virtio -am) >&2; }
cp=$test_classes:$root/driver-virtio/target/classes:$root/ethdev/target/classes:$root/pci/target/classes:$root/memory/target/classes:$root/sys/target/classes
mkdir -p "$D/out"; rm -f "$D/out/"*
# two TAPs on a bridge of their own (no address, no uplink): the host kernel between 00:0b.0 and 00:0c.0
br=jnvtbr0
cleanup() { ip link del jnvt0 2>/dev/null || true; ip link del jnvt1 2>/dev/null || true; ip link del $br 2>/dev/null || true; }
cleanup; trap cleanup EXIT
ip link add $br type bridge
for t in jnvt0 jnvt1; do
  ip tuntap add $t mode tap vnet_hdr
  sysctl -qw net.ipv6.conf.$t.disable_ipv6=1 || true
  ip link set $t master $br up
done
sysctl -qw net.ipv6.conf.$br.disable_ipv6=1 || true
ip link set $br up
bash "$root/testbed/build-initramfs.sh" "$D" "$K" >/dev/null
cat > "$D/guest.sh" <<GUEST
#!/bin/sh
# Rebinds PCI devices: only inside the test bed's guest (its kernel command line carries jnic.dir=) and only
# devices that are virtio NICs (1af4). On a host these addresses are its own disk and network.
grep -q ' jnic.dir=' /proc/cmdline || { echo "refusing to run outside the QEMU test bed guest" >&2; exit 2; }
for pair in 0000:00:03.0=vfio-pci 0000:00:06.0=uio_pci_generic 0000:00:07.0=vfio-pci 0000:00:08.0=uio_pci_generic \\
    0000:00:09.0=vfio-pci 0000:00:0a.0=uio_pci_generic 0000:00:0b.0=vfio-pci 0000:00:0c.0=uio_pci_generic; do
  bdf=\${pair%=*}; drv=\${pair#*=}; d=/sys/bus/pci/devices/\$bdf
  [ "\$(cat \$d/vendor 2>/dev/null)" = 0x1af4 ] || { echo "@@ERR \$bdf is not a virtio device: not rebinding it"; exit 2; }
  [ -e \$d/driver ] && echo \$bdf > \$d/driver/unbind
  echo \$drv > \$d/driver_override; echo \$bdf > /sys/bus/pci/drivers_probe
  echo "@@INFO \$bdf -> \$(basename \$(readlink \$d/driver))"
done
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m \\
  -cp "$cp" io.jnic.driver.virtio.testbed.VirtioGuestMain 0000:00:03.0 0000:00:06.0 0000:00:07.0 0000:00:08.0 \\
  0000:00:09.0 0000:00:0a.0 0000:00:0b.0 0000:00:0c.0 2>&1 | tee "$D/out/guest.log"
GUEST
chmod +x "$D/guest.sh"
timeout "${JNIC_VTB_TIMEOUT:-600}" qemu-system-x86_64 \
  -accel tcg -machine q35 -cpu max -smp 2 -m 1536M \
  -nographic -nodefaults -serial stdio -no-reboot \
  -kernel "/boot/vmlinuz-$K" -initrd "$D/initramfs.cpio.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1 no_timer_check intel_iommu=on iommu=pt hugepages=64 jnic.dir=$D jnic.root=$root" \
  -device intel-iommu \
  -netdev hubport,id=p0,hubid=0 -netdev hubport,id=p1,hubid=0 \
  -device virtio-net-pci,netdev=p0,addr=03.0,disable-legacy=on,iommu_platform=on,mac=52:54:00:00:00:03 \
  -device virtio-net-pci,netdev=p1,addr=06.0,disable-legacy=on,mac=52:54:00:00:00:06 \
  -netdev hubport,id=p2,hubid=1 -netdev hubport,id=p3,hubid=1 \
  -device virtio-net-pci,netdev=p2,addr=07.0,disable-modern=on,mac=52:54:00:00:00:07 \
  -device virtio-net-pci,netdev=p3,addr=08.0,disable-modern=on,mac=52:54:00:00:00:08 \
  -netdev hubport,id=p4,hubid=2 -netdev hubport,id=p5,hubid=2 \
  -device virtio-net-pci,netdev=p4,addr=09.0,disable-legacy=on,iommu_platform=on,packed=on,mac=52:54:00:00:00:09 \
  -device virtio-net-pci,netdev=p5,addr=0a.0,disable-legacy=on,packed=on,mac=52:54:00:00:00:0a \
  -netdev tap,id=t0,ifname=jnvt0,script=no,downscript=no,vhost=off \
  -device virtio-net-pci,netdev=t0,addr=0b.0,disable-legacy=on,iommu_platform=on,mac=52:54:00:00:00:0b \
  -netdev tap,id=t1,ifname=jnvt1,script=no,downscript=no,vhost=off \
  -device virtio-net-pci,netdev=t1,addr=0c.0,disable-legacy=on,mac=52:54:00:00:00:0c \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=fs0 \
  -virtfs local,path="$D/out",mount_tag=out,security_model=none,id=fs1 \
  < /dev/null > "$D/console.log" 2>&1 || true
log=$(tr -d '\r' < "$D/console.log")
grep -E '^@@(T|ERR|RC|INFO)' <<< "$log" || true
grep -q '^@@T SUMMARY virtio ok' <<< "$log" || { echo "virtio testbed: failed (console: $D/console.log)"; tail -40 <<< "$log"; exit 1; }
