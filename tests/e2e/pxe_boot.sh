#!/usr/bin/env bash
# End to end: real firmware PXE-boots the Debian installer from pxed, as in
# the classic dnsmasq tutorial. Three QEMU VMs (TCG) on br0 in one run:
#   bios-resv  BIOS (iPXE ROM), a reservation: answered by the XDP program
#   bios-dyn   BIOS, from the dynamic range: answered by the daemon
#   uefi       OVMF (architecture 7): bootnetx64.efi, grubx64.efi, GRUB loads the kernel
# tshark on br0 captures the run; the DHCP exchange and the order of the TFTP
# reads are checked against the tutorial's capture.
# Usage: pxe_boot.sh BUILD_DIR   (root; run by ctest, label e2e)
set -u
BUILD=$(cd "${1:?build directory}" && pwd)
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib/lab.sh
. scripts/lib/lab.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: needs root (network namespaces, tap devices, XDP)"
  exit 1
fi

LAB_NS=pxedt-e2e-$$
LAB_DIR=$(mktemp -d /tmp/pxed-e2e.XXXXXX)
LAB_BUILD=$BUILD
cleanup() {
  lab_down
  if [ "$failed" -ne 0 ]; then echo "e2e: logs kept in $LAB_DIR"; else rm -rf "$LAB_DIR"; fi
}
passed=0
failed=0
trap cleanup EXIT
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok   $what"
    passed=$((passed + 1))
  else
    echo "FAIL $what"
    failed=$((failed + 1))
  fi
}

MAC_RESV=52:54:00:00:00:0a
MAC_DYN=52:54:00:00:01:0b
MAC_UEFI=52:54:00:00:02:0c
lab_up "$MAC_RESV" || exit 1
lab_port bios-resv
lab_port bios-dyn
lab_port uefi
lab_capture || exit 1
lab_vm bios-resv "$MAC_RESV" bios
lab_vm bios-dyn "$MAC_DYN" bios
lab_vm uefi "$MAC_UEFI" uefi

check "bios-resv: the kernel starts" lab_wait_serial bios-resv "Linux version" 420
check "bios-resv: the installer's first screen" lab_wait_serial bios-resv "Select a language" 300
check "bios-dyn: the installer's first screen" lab_wait_serial bios-dyn "Select a language" 300
check "uefi: GRUB loads the installer kernel and it starts" lab_wait_serial uefi "Linux version" 300

stats=$(lab_nsexec "$BUILD/userspace/pxectl" -s "$LAB_DIR/pxed.sock" stats)
echo "$stats" | sed 's/^/     /'
# The "DHCP replies" line: the proxyDHCP line has the same words.
kernel_ack=$(echo "$stats" | sed -n 's/^DHCP replies .*kernel (XDP): OFFER \([0-9]*\) ACK \([0-9]*\).*/\2/p')
daemon_ack=$(echo "$stats" | sed -n 's/^DHCP replies .*daemon: OFFER \([0-9]*\) ACK \([0-9]*\).*/\2/p')
check "the reserved VM was answered in the kernel (XDP ACKs: $kernel_ack)" test "${kernel_ack:-0}" -ge 1
check "the dynamic VMs were answered by the daemon (daemon ACKs: $daemon_ack)" test "${daemon_ack:-0}" -ge 2
# The boot trace of the reserved VM, while pxed runs: the kernel's
# exchange and the files it read (checked below, after the capture's).
trace=$(lab_nsexec "$BUILD/userspace/pxectl" -s "$LAB_DIR/pxed.sock" trace "$MAC_RESV")
echo "$trace" | sed 's/^/     /'
check "bios-resv: pxectl trace shows the kernel's OFFER" grep -q "DISCOVER -> OFFER 192.0.2.10 (kernel)" <<<"$trace"
check "bios-resv: pxectl trace shows the kernel's ACK" grep -q "REQUEST -> ACK 192.0.2.10 (kernel)" <<<"$trace"
leases=$(lab_nsexec "$BUILD/userspace/pxectl" -s "$LAB_DIR/pxed.sock" lease list)
check "bios-dyn holds a dynamic lease" grep -q "$MAC_DYN .* bound" <<<"$leases"
check "uefi holds a dynamic lease" grep -q "$MAC_UEFI .* bound" <<<"$leases"

lab_pids=("${LAB_VM_PIDS[@]}" "$LAB_PXED_PID" "$LAB_TSHARK_PID")
lab_down  # stops tshark and flushes the capture
pcap=$LAB_DIR/capture.pcap

# DHCP: DISCOVER, OFFER, REQUEST, ACK for each VM, in that order, on its port.
on_port() { echo "frame.interface_name == \"$(lab_tap "$1")\""; }
dhcp_types() {  # dhcp_types FILTER: the DHCP message types the capture shows
  tshark -r "$pcap" -Y "$1" -T fields -e dhcp.option.dhcp 2>/dev/null | tr '\n' ' '
}
dora() {
  local name=$1 mac=$2 seq
  seq=$(dhcp_types "$(on_port "$name") && dhcp.hw.mac_addr == $mac")
  [[ "$seq" == *"1 2 3 5"* ]] || { echo "     DHCP message types for $mac on its port: $seq"; return 1; }
}
check "bios-resv: DISCOVER, OFFER, REQUEST, ACK" dora bios-resv "$MAC_RESV"
check "bios-dyn: DISCOVER, OFFER, REQUEST, ACK" dora bios-dyn "$MAC_DYN"
check "uefi: DISCOVER, OFFER, REQUEST, ACK" dora uefi "$MAC_UEFI"
# br0 is where the tutorial captured: the daemon's exchange is there; the
# reserved VM's never reached br0's stack (XDP answered it first).
on_br0() {
  local mac=$1 want=$2 seq
  seq=$(dhcp_types "frame.interface_name == \"br0\" && dhcp.hw.mac_addr == $mac")
  [ "$seq" = "$want" ] || [[ -n "$want" && "$seq" == *"$want"* ]] || { echo "     on br0 for $mac: '$seq'"; return 1; }
}
check "bios-dyn: its exchange is seen on br0" on_br0 "$MAC_DYN" "1 2 3 5"
check "bios-resv: no DHCP of it on br0: the kernel answered before the stack" on_br0 "$MAC_RESV" ""
check "uefi: its DISCOVER says architecture 7" \
  bash -c "tshark -r '$pcap' -Y '$(on_port uefi) && dhcp.option.dhcp == 1' -T fields -e dhcp.option.client_system_architecture 2>/dev/null | grep -q 7"

# TFTP: the read requests of one VM, in order, contain the tutorial's sequence.
reads() {  # reads NAME: the VM's TFTP read requests, as seen on its port
  tshark -r "$pcap" -Y "$(on_port "$1") && tftp.opcode == 1" -T fields -e tftp.source_file 2>/dev/null
}
in_order() {  # in_order NAME FILE...: the FILEs appear in this order among the VM's reads
  local name=$1
  shift
  list_in_order "$(reads "$name")" "$@"
}
list_in_order() {  # list_in_order LIST FILE...: the FILEs appear in this order among LIST's lines
  local list=$1
  shift
  # awk: walk the list once, advancing through the wanted names.
  if ! awk -v want="$*" 'BEGIN { n = split(want, w, " "); i = 1 }
      i <= n && $0 == w[i] { i++ } END { exit !(i > n) }' <<<"$list"; then
    echo "     expected in this order: $*"
    echo "     the list was:"
    sed 's/^/       /' <<<"$list"
    return 1
  fi
}
entry="pxelinux.cfg/01-$(echo "$MAC_RESV" | tr ':' '-')"
check "bios-resv: pxelinux.0, ldlinux.c32, its pxelinux.cfg entry, menu.cfg, splash.png, linux, initrd.gz" \
  in_order bios-resv pxelinux.0 ldlinux.c32 "$entry" debian-installer/amd64/boot-screens/menu.cfg \
  debian-installer/amd64/boot-screens/splash.png debian-installer/amd64/linux debian-installer/amd64/initrd.gz
# The same files, done, in the VM's boot trace.
check "bios-resv: pxectl trace shows each of those files done, in that order" \
  list_in_order "$(sed -n 's/.*  tftp    tftp \(.*\): done, .*/\1/p' <<<"$trace")" pxelinux.0 ldlinux.c32 "$entry" \
  debian-installer/amd64/boot-screens/menu.cfg debian-installer/amd64/boot-screens/splash.png \
  debian-installer/amd64/linux debian-installer/amd64/initrd.gz
check "uefi: bootnetx64.efi, grubx64.efi, grub.cfg, linux, initrd.gz" \
  in_order uefi debian-installer/amd64/bootnetx64.efi debian-installer/amd64/grubx64.efi \
  /debian-installer/amd64/grub/grub.cfg /debian-installer/amd64/linux /debian-installer/amd64/initrd.gz

check "nothing left behind: namespace" bash -c "! ip netns list | grep -qw $LAB_NS"
check "nothing left behind: pins" test ! -e /sys/fs/bpf/pxed/br0
none_alive() { local p; for p in "$@"; do ! kill -0 "$p" 2>/dev/null || return 1; done; }
check "nothing left behind: VMs, pxed, tshark" none_alive "${lab_pids[@]}"

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
