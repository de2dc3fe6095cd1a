#!/usr/bin/env bash
# A secondary drives a virtio-net-pci queue pair through VFIO in the QEMU test bed (testbed/: its initramfs and
# /init): 00:03.0 behind the emulated VT-d (iommu_platform=on) bound to vfio-pci and shared by a primary,
# 00:06.0 bound to uio_pci_generic as the receiver, both on one QEMU hub; the guest runs
# io.jnic.mp.ethdev.testbed.MpVirtioGuestMain (the secondary gets the VFIO device fd over IPC, maps the
# notify BAR, sends; then it is SIGKILLed and the primary recovers the pair).
#   sudo mp-ethdev/testbed-mp-virtio.sh      (after ./jnic build -pl mp-ethdev -am; a few minutes under TCG)
# Prints the @@T lines and exits non-zero unless every check passed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
D=${JNIC_MPVTB_DIR:-/tmp/jnic-mpvtb}
K=$(ls /boot/vmlinuz-* | sed 's|.*/vmlinuz-||' | sort -V | tail -1)
command -v qemu-system-x86_64 >/dev/null || { echo "needs qemu-system-x86 (see testbed/README.md)" >&2; exit 2; }
. "$root/bin/find-jdk.sh"; jnic_find_jdk >/dev/null
tc=$root/mp-ethdev/target/test-classes
[ -f "$tc/io/jnic/mp/ethdev/testbed/MpVirtioGuestMain.class" ] || {
  (cd "$root" && ./jnic build -q -pl mp-ethdev -am) >&2; }
picocli=$(ls ~/.m2/repository/info/picocli/picocli/*/picocli-*.jar | sort -V | tail -1)
cp=$tc:$root/mp-ethdev/target/classes:$root/multiproc/target/classes:$root/driver-virtio/target/classes
cp=$cp:$root/ethdev/target/classes:$root/pci/target/classes:$root/memory/target/classes:$root/sys/target/classes:$picocli
mkdir -p "$D/out"; rm -f "$D/out/"*
bash "$root/testbed/build-initramfs.sh" "$D" "$K" >/dev/null
cat > "$D/guest.sh" <<GUEST
#!/bin/sh
# Rebinds PCI devices: only inside the test bed's guest (its kernel command line carries jnic.dir=) and only
# devices that are virtio NICs (1af4). On a host these addresses are its own disk and network.
grep -q ' jnic.dir=' /proc/cmdline || { echo "refusing to run outside the QEMU test bed guest" >&2; exit 2; }
for pair in 0000:00:03.0=vfio-pci 0000:00:06.0=uio_pci_generic; do
  bdf=\${pair%=*}; drv=\${pair#*=}; d=/sys/bus/pci/devices/\$bdf
  [ "\$(cat \$d/vendor 2>/dev/null)" = 0x1af4 ] || { echo "@@ERR \$bdf is not a virtio device: not rebinding it"; exit 2; }
  [ -e \$d/driver ] && echo \$bdf > \$d/driver/unbind
  echo \$drv > \$d/driver_override; echo \$bdf > /sys/bus/pci/drivers_probe
  echo "@@INFO \$bdf -> \$(basename \$(readlink \$d/driver))"
done
mkdir -p /run/mpvtb && chmod 700 /run/mpvtb
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m \\
  -Djnic.runtime.base=/run/mpvtb -cp "$cp" io.jnic.mp.ethdev.testbed.MpVirtioGuestMain primary \\
  0000:00:03.0 0000:00:06.0 2>&1 | tee "$D/out/guest.log"
GUEST
chmod +x "$D/guest.sh"
timeout "${JNIC_MPVTB_TIMEOUT:-600}" qemu-system-x86_64 \
  -accel tcg -machine q35 -cpu max -smp 2 -m 1536M \
  -nographic -nodefaults -serial stdio -no-reboot \
  -kernel "/boot/vmlinuz-$K" -initrd "$D/initramfs.cpio.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1 no_timer_check intel_iommu=on iommu=pt hugepages=64 jnic.dir=$D jnic.root=$root" \
  -device intel-iommu \
  -netdev hubport,id=p0,hubid=0 -netdev hubport,id=p1,hubid=0 \
  -device virtio-net-pci,netdev=p0,addr=03.0,disable-legacy=on,iommu_platform=on,mac=52:54:00:00:00:03 \
  -device virtio-net-pci,netdev=p1,addr=06.0,disable-legacy=on,mac=52:54:00:00:00:06 \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=fs0 \
  -virtfs local,path="$D/out",mount_tag=out,security_model=none,id=fs1 \
  < /dev/null > "$D/console.log" 2>&1 || true
log=$(tr -d '\r' < "$D/console.log")
grep -E '^@@(T|ERR|RC|INFO)' <<< "$log" || true
grep -q '^@@T SUMMARY mpvirtio ok' <<< "$log" || { echo "mp virtio testbed: failed (console: $D/console.log)"; tail -40 <<< "$log"; exit 1; }
