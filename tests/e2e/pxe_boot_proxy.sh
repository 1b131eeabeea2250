#!/usr/bin/env bash
# End to end, proxy mode (issue 17): another server hands out the addresses
# and pxed only tells PXE clients what to boot, as dnsmasq's
# dhcp-range=...,proxy does. On br0: dnsmasq (DHCP only, 192.0.2.2, in a
# namespace of its own on a veth port: a second machine) and pxed
# (proxy = true, TFTP, 192.0.2.1). Two QEMU VMs (TCG) boot at once:
#   bios  iPXE ROM: pxelinux.0 and the tutorial's files
#   uefi  OVMF's own PXE (architecture 7): sent on to port 4011, then
#         bootnetx64.efi, grubx64.efi, GRUB loads the kernel
# The firmware has to combine both offers: the address from dnsmasq's, the
# boot file from pxed's. tshark on the VM ports shows who sent what.
#
# dnsmasq names pxed as next server (siaddr), and nothing else: GRUB 2.06
# (Debian 12's grubx64.efi) takes its TFTP server from the address server's
# ACK that OVMF kept, not from the proxy's replies (it lacks Fedora's patch
# "efinet: Add DHCP proxy support"); dnsmasq's default siaddr is its own
# address, where GRUB then asks for grub.cfg in vain. dnsmasq's own proxy
# mode fails there the same way. The boot files still come from pxed only.
# Usage: pxe_boot_proxy.sh BUILD_DIR   (root; run by ctest, label e2e)
set -u
BUILD=$(cd "${1:?build directory}" && pwd)
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib/lab.sh
. scripts/lib/lab.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: needs root (network namespaces, tap devices, XDP)"
  exit 1
fi
command -v dnsmasq >/dev/null || { echo "e2e: dnsmasq missing (the address server)"; exit 1; }

LAB_NS=pxedt-e2ep-$$
LAB_DIR=$(mktemp -d /tmp/pxed-e2e-proxy.XXXXXX)
LAB_BUILD=$BUILD
PXED=192.0.2.1
DNSMASQ=192.0.2.2
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

MAC_BIOS=52:54:00:00:03:0d
MAC_UEFI=52:54:00:00:04:0e
lab_up_proxy || exit 1
# --dhcp-boot with no file and no server name: only siaddr (see above).
lab_address_server --dhcp-boot=,,$PXED || exit 1
# dnsmasq must leave the PXE ports to pxed: only 67 bound.
ports=$(ip netns exec "$LAB_NS-dhcp" ss -Hulnp | awk '{ print $4 }' | sed 's/.*://' | sort -u | tr '\n' ' ')
check "dnsmasq listens on UDP 67 only, not 69 or 4011 (ports: $ports)" test "$ports" = "67 "
lab_port bios
lab_port uefi
lab_capture || exit 1
lab_vm bios "$MAC_BIOS" bios
lab_vm uefi "$MAC_UEFI" uefi

check "bios: the kernel starts" lab_wait_serial bios "Linux version" 420
check "uefi: GRUB loads the installer kernel and it starts" lab_wait_serial uefi "Linux version" 300
echo "     both kernels started after ${SECONDS}s"

stats=$(lab_nsexec "$BUILD/userspace/pxectl" -s "$LAB_DIR/pxed.sock" stats)
echo "$stats" | sed 's/^/     /'
# "daemon: OFFER a ACK b [NAK c]   kernel (XDP): OFFER d ACK e" -> "a b [c] d e"
counts() { sed -n "s/^$1 .*daemon: OFFER \([0-9]*\) ACK \([0-9]*\)\( NAK \([0-9]*\)\)*.*kernel (XDP): OFFER \([0-9]*\) ACK \([0-9]*\).*/\1 \2 \4 \5 \6/p" <<<"$stats"; }
read -r all_do all_da all_dn all_ko all_ka <<<"$(counts 'DHCP replies')"
read -r px_do px_da px_ko px_ka <<<"$(counts proxyDHCP)"
check "pxed sent proxy OFFERs to both VMs (daemon ${px_do:-?}, kernel ${px_ko:-?})" \
  test "$((${px_do:-0} + ${px_ko:-0}))" -ge 2
check "pxed answered the UEFI VM's port 4011 REQUEST (ACKs: daemon ${px_da:-?}, kernel ${px_ka:-?})" \
  test "$((${px_da:-0} + ${px_ka:-0}))" -ge 1
check "every OFFER and ACK pxed sent was a proxy one, no NAK (all: ${all_do:-?} ${all_da:-?} ${all_dn:-?} ${all_ko:-?} ${all_ka:-?})" \
  test "${all_do:-x}/${all_da:-x}/${all_ko:-x}/${all_ka:-x}/${all_dn:-x}" = "$px_do/$px_da/$px_ko/$px_ka/0"
check "pxed holds no lease" bash -c "! '$BUILD/userspace/pxectl' -s '$LAB_DIR/pxed.sock' lease list 2>/dev/null | grep -q bound"
check "dnsmasq leased bios an address" grep -q " $MAC_BIOS 192.0.2.1[0-5][0-9] " "$LAB_DIR/dnsmasq.leases"
check "dnsmasq leased uefi an address" grep -q " $MAC_UEFI 192.0.2.1[0-5][0-9] " "$LAB_DIR/dnsmasq.leases"

lab_pids=("${LAB_VM_PIDS[@]}" "$LAB_PXED_PID" "$LAB_TSHARK_PID" "$LAB_DNSMASQ_PID")
lab_down  # stops tshark and flushes the capture
# The checks read only DHCP and TFTP read requests: one pass keeps them
# (the capture holds every TFTP data block too, ~170 MB; ~3 s per pass).
pcap=$LAB_DIR/requests.pcapng
tshark -r "$LAB_DIR/capture.pcap" -Y 'dhcp || tftp.opcode == 1' -w "$pcap" 2>/dev/null

on_port() { echo "frame.interface_name == \"$(lab_tap "$1")\""; }
count() {  # count FILTER: the packets the capture shows
  tshark -r "$pcap" -Y "$1" 2>/dev/null | wc -l
}
some() { [ "$(count "$1")" -ge 1 ] || { echo "     none: $1"; return 1; }; }
none() { [ "$(count "$1")" -eq 0 ] || { echo "     some: $1"; return 1; }; }
# The DHCP of one VM on its port, from the address server and from pxed.
dhcp_checks() {
  local name=$1 mac=$2 vm
  vm="$(on_port "$name") && dhcp.hw.mac_addr == $mac"
  check "$name: DISCOVER" some "$vm && dhcp.option.dhcp == 1 && udp.dstport == 67"
  check "$name: an OFFER from dnsmasq with an address" \
    some "$vm && dhcp.option.dhcp == 2 && ip.src == $DNSMASQ && dhcp.ip.your != 0.0.0.0"
  check "$name: a proxy OFFER from pxed: no address, option 60 PXEClient" \
    some "$vm && dhcp.option.dhcp == 2 && ip.src == $PXED && udp.srcport == 67 && dhcp.ip.your == 0.0.0.0 && dhcp.option.vendor_class_id == \"PXEClient\""
  check "$name: REQUEST to dnsmasq (server id $DNSMASQ), its ACK" \
    some "$vm && dhcp.option.dhcp == 3 && udp.dstport == 67 && dhcp.option.dhcp_server_id == $DNSMASQ"
  check "$name: dnsmasq's ACK, next server pxed, no boot file" \
    some "$vm && dhcp.option.dhcp == 5 && ip.src == $DNSMASQ && dhcp.ip.server == $PXED && dhcp.file == \"\" && !dhcp.option.bootfile_name"
}
dhcp_checks bios "$MAC_BIOS"
dhcp_checks uefi "$MAC_UEFI"
uefi="$(on_port uefi) && dhcp.hw.mac_addr == $MAC_UEFI"
check "uefi: its DISCOVER says architecture 7" \
  some "$uefi && dhcp.option.dhcp == 1 && dhcp.option.client_system_architecture == 7"
check "uefi: REQUEST to pxed's port 4011" some "$uefi && dhcp.option.dhcp == 3 && ip.dst == $PXED && udp.dstport == 4011"
check "uefi: pxed's ACK from port 4011 with the boot file" \
  some "$uefi && dhcp.option.dhcp == 5 && ip.src == $PXED && udp.srcport == 4011 && dhcp.file == \"debian-installer/amd64/bootnetx64.efi\""
# What iPXE does with the proxy offer (asks port 4011 or not) is its choice: shown, not checked.
echo "     bios: port 4011 packets: $(count "$(on_port bios) && udp.port == 4011")"
check "pxed: no OFFER with an address, no ACK or NAK from port 67" \
  none "ip.src == $PXED && udp.srcport == 67 && ((dhcp.option.dhcp == 2 && dhcp.ip.your != 0.0.0.0) || dhcp.option.dhcp == 5 || dhcp.option.dhcp == 6)"

# TFTP: every read request goes to pxed; those of one VM contain the tutorial's sequence.
check "all TFTP read requests go to pxed" none "tftp.opcode == 1 && ip.dst != $PXED"
reads() {  # reads NAME: the VM's TFTP read requests, as seen on its port
  tshark -r "$pcap" -Y "$(on_port "$1") && tftp.opcode == 1" -T fields -e tftp.source_file 2>/dev/null
}
in_order() {  # in_order NAME FILE...: the FILEs appear in this order among the VM's reads
  local name=$1
  shift
  local list
  list=$(reads "$name")
  # awk: walk the reads once, advancing through the wanted names.
  if ! awk -v want="$*" 'BEGIN { n = split(want, w, " "); i = 1 }
      i <= n && $0 == w[i] { i++ } END { exit !(i > n) }' <<<"$list"; then
    echo "     expected in this order: $*"
    echo "     reads were:"
    sed 's/^/       /' <<<"$list"
    return 1
  fi
}
entry="pxelinux.cfg/01-$(echo "$MAC_BIOS" | tr ':' '-')"
check "bios: pxelinux.0, ldlinux.c32, its pxelinux.cfg entry, menu.cfg, splash.png, linux, initrd.gz" \
  in_order bios pxelinux.0 ldlinux.c32 "$entry" debian-installer/amd64/boot-screens/menu.cfg \
  debian-installer/amd64/boot-screens/splash.png debian-installer/amd64/linux debian-installer/amd64/initrd.gz
check "uefi: bootnetx64.efi, grubx64.efi, grub.cfg, linux, initrd.gz" \
  in_order uefi debian-installer/amd64/bootnetx64.efi debian-installer/amd64/grubx64.efi \
  /debian-installer/amd64/grub/grub.cfg /debian-installer/amd64/linux /debian-installer/amd64/initrd.gz

check "nothing left behind: namespaces" bash -c "! ip netns list | grep -qw -- '$LAB_NS'"
check "nothing left behind: pins" test ! -e /sys/fs/bpf/pxed/br0
none_alive() { local p; for p in "$@"; do ! kill -0 "$p" 2>/dev/null || return 1; done; }
check "nothing left behind: VMs, pxed, tshark, dnsmasq" none_alive "${lab_pids[@]}"

echo "e2e: $passed passed, $failed failed, ${SECONDS}s"
[ "$failed" -eq 0 ]
