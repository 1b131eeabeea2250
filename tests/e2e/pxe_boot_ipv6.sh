#!/usr/bin/env bash
# End to end over IPv6 only: real firmware (Debian 12's OVMF, QEMU TCG) boots
# on a segment with no IPv4 address at all, two VMs at once:
#   pxe6   UEFI PXE over IPv6: DHCPv6 (option 59 tftp://[fd00:e6::1]/...),
#          Debian's shim over TFTP, which fetches grubx64.efi over TFTP;
#          GRUB reads grub.cfg over TFTP/IPv6 (it echoes where from, then
#          the VM ends)
#   http6  UEFI HTTP boot over IPv6: DHCPv6 with vendor class HTTPClient
#          (option 59 http://[fd00:e6::1]/..., option 16 echoed), the shim
#          over HTTP, which fetches grubx64.efi over HTTP; GRUB starts (it
#          stops at its prompt: GRUB 2.06 takes no network setup from an
#          HTTP boot, so it finds no grub.cfg)
# SERVER says who serves them, on fd00:e6::1:
#   peers  dnsmasq 2.90 (DHCPv6 for PXE clients, TFTP), Kea 2.2 (DHCPv6
#          for HTTP clients: dnsmasq cannot send the vendor class they
#          need) and python's http.server
#   pxed   pxed alone (DHCPv6, TFTP, HTTP), with the [[subnet6]] of
#          scripts/lib/lab6.sh (lab6_pxed)
# The checks read the VMs' serial consoles and a capture of their ports,
# never a server's log: they are the same for both.
# Usage: pxe_boot_ipv6.sh BUILD_DIR [peers|pxed]   (root; ctest, label e2e)
set -u
BUILD=$(cd "${1:?build directory}" && pwd)
SERVER=${2:-peers}
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib/lab.sh
. scripts/lib/lab.sh
# shellcheck source=../../scripts/lib/lab6.sh
. scripts/lib/lab6.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: needs root (network namespaces, tap devices)"
  exit 1
fi
case $SERVER in
  peers) for c in dnsmasq kea-dhcp6 python3; do
           command -v $c >/dev/null || { echo "e2e: $c missing (scripts/setup-deps)"; exit 1; }
         done ;;
  pxed) [ -x "$BUILD/userspace/pxed" ] || { echo "e2e: $BUILD/userspace/pxed missing"; exit 1; } ;;
  *) echo "e2e: server '$SERVER': peers or pxed"; exit 1 ;;
esac

LAB_NS=pxedt-e2e6-$$
LAB_DIR=$(mktemp -d /tmp/pxed-e2e-ipv6.XXXXXX)
LAB_BUILD=$BUILD
passed=0
failed=0
cleanup() {
  lab6_down
  # E2E_KEEP=1 keeps the capture and logs of a run that passed too
  # (tests/fixtures/dhcp6/extract-ovmf.sh reads the capture).
  if [ "$failed" -ne 0 ] || [ "${E2E_KEEP:-0}" = 1 ]; then echo "e2e: logs kept in $LAB_DIR"; else rm -rf "$LAB_DIR"; fi
}
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
    return 1
  fi
}

MAC_PXE=52:54:00:e6:00:0a
MAC_HTTP=52:54:00:e6:00:0b
lab6_net || exit 1
check "the segment has no IPv4 address" test -z "$(ip -n "$LAB_NS" -4 -o addr show scope global)"
if [ "$SERVER" = pxed ]; then lab6_pxed || exit 1; else lab6_peers || exit 1; fi
lab_port pxe6
lab_port http6
lab6_capture || exit 1
start=$SECONDS
lab6_vm pxe6 "$MAC_PXE" pxe
lab6_vm http6 "$MAC_HTTP" http

# Both boot at once: the waits overlap, and each ends at its VM's last step.
check "pxe6: the firmware starts PXE over IPv6" lab6_wait_serial pxe6 ">>Start PXE over IPv6" 120
check "pxe6: it has an address from the prefix" lab6_wait_serial pxe6 "Station IP address is FD00:E6:" 120
check "pxe6: GRUB reads grub.cfg over TFTP from fd00:e6::1" \
  lab6_wait_serial pxe6 "pxed-lab6: grub.cfg read from (tftp,fd00:e6::1)" 300 &&
  echo "     pxe6: GRUB read grub.cfg after $((SECONDS - start))s"
check "http6: the firmware starts HTTP boot over IPv6" lab6_wait_serial http6 ">>Start HTTP Boot over IPv6" 120
check "http6: the boot file URL" lab6_wait_serial http6 "URI: http://\[$LAB6_SERVER\]/$LAB6_BOOT_FILE" 120
check "http6: GRUB starts and shows its prompt" lab6_wait_serial http6 "grub>" 300 &&
  echo "     http6: GRUB's prompt after $((SECONDS - start))s"

lab_pids=("${LAB_VM_PIDS[@]}" "$LAB_TSHARK_PID" "$LAB_PXED_PID" "$LAB_DNSMASQ_PID" "$LAB_KEA_PID" "$LAB_HTTP_PID")
lab6_down  # stops tshark and flushes the capture
pcap=$LAB_DIR/capture.pcap

on_port() { echo "frame.interface_name == \"$(lab_tap "$1")\""; }
mac() { if [ "$1" = pxe6 ]; then echo "$MAC_PXE"; else echo "$MAC_HTTP"; fi; }
# dhcp6 NAME: the VM's DHCPv6 messages, both ways, one line each
# (dhcp6_dump.py); its port sees the other VM's multicast Solicits too.
dhcp6() {
  tshark -r "$pcap" -Y "$(on_port "$1") && eth.addr == $(mac "$1") && dhcpv6" -T fields -e udp.payload 2>/dev/null |
    python3 tests/support/dhcp6_dump.py
}
has() {  # has NAME REGEX...: one of the VM's DHCPv6 messages matches every REGEX
  local all lines re
  all=$(dhcp6 "$1")
  lines=$all
  shift
  for re in "$@"; do lines=$(grep -E -- "$re" <<<"$lines"); done
  [ -n "$lines" ] && return 0
  echo "     no message matches all of: $*"
  sed 's/^/       /' <<<"$all"
  return 1
}
# released NAME: each Release has a Reply (the firmware waits for it
# before it starts the image: ~60 s of retransmissions when unanswered).
released() {
  local msgs xid
  msgs=$(dhcp6 "$1")
  xid=$(sed -n 's/^release xid=\([0-9a-f]*\) .*/\1/p' <<<"$msgs" | head -1)
  if [ -n "$xid" ] && grep -q "^reply xid=$xid " <<<"$msgs"; then return 0; fi
  echo "     release xid '${xid}' has no reply"
  sed 's/^/       /' <<<"$msgs"
  return 1
}
count() { tshark -r "$pcap" -Y "$1" 2>/dev/null | wc -l; }
list_in_order() {  # list_in_order LIST ITEM...: the ITEMs appear in this order among LIST's lines
  local list=$1
  shift
  # awk: walk the list once, advancing through the wanted items.
  awk -v want="$*" 'BEGIN { n = split(want, w, " "); i = 1 }
      i <= n && $0 == w[i] { i++ } END { exit !(i > n) }' <<<"$list" && return 0
  echo "     expected in this order: $*"
  sed 's/^/       /' <<<"$list"
  return 1
}

url_tftp="59=tftp://\[$LAB6_SERVER\]/$LAB6_BOOT_FILE( |$)"
url_http="59=http://\[$LAB6_SERVER\]/$LAB6_BOOT_FILE( |$)"
check "pxe6: Solicit: architecture 7, vendor class PXEClient, ORO with 59" \
  has pxe6 "^solicit " " 61=7( |$)" " 16=343:PXEClient:Arch:00007:" " 6=([0-9]+,)*59(,| |$)"
check "pxe6: Advertise with an address in the prefix and the tftp:// URL" \
  has pxe6 "^advertise " "[[ ]5=fd00:e6::[0-9a-f]+," " $url_tftp"
# lab6_pxed sets preference = 255 (option 7): the firmware may take the
# Advertise at once (RFC 8415 18.2.1). The peers send none.
[ "$SERVER" = pxed ] && check "pxe6: pxed's Advertise carries preference 255" has pxe6 "^advertise " " 7=255( |$)"
check "pxe6: Request, and a Reply with the tftp:// URL" has pxe6 "^reply " "[[ ]5=fd00:e6::[0-9a-f]+," " $url_tftp"
check "pxe6: its Release is answered" released pxe6
check "http6: Solicit: architecture 16, vendor class HTTPClient" \
  has http6 "^solicit " " 61=16( |$)" " 16=343:HTTPClient:Arch:00016:"
check "http6: Advertise with an address, vendor class 343 HTTPClient and the http:// URL" \
  has http6 "^advertise " "[[ ]5=fd00:e6::[0-9a-f]+," " 16=343:HTTPClient( |$)" " $url_http"
check "http6: Request, and a Reply with an address" has http6 "^reply " "[[ ]5=fd00:e6::[0-9a-f]+,"
check "http6: its Release is answered" released http6

reads=$(tshark -r "$pcap" -Y "$(on_port pxe6) && tftp.opcode == 1" -T fields -e tftp.source_file 2>/dev/null)
check "pxe6: TFTP reads bootnetx64.efi, grubx64.efi, grub.cfg" list_in_order "$reads" \
  "$LAB6_BOOT_FILE" /debian-installer/amd64/grubx64.efi /debian-installer/amd64/grub/grub.cfg
check "pxe6: every TFTP read goes to fd00:e6::1 over IPv6" \
  test "$(count "$(on_port pxe6) && tftp.opcode == 1 && !(ipv6.dst == $LAB6_SERVER)")" -eq 0
gets=$(tshark -r "$pcap" -Y "$(on_port http6) && http.request.method == \"GET\" && ipv6.dst == $LAB6_SERVER" \
  -T fields -e http.request.uri 2>/dev/null | sed 's|//*|/|g')
check "http6: HTTP GETs of bootnetx64.efi, then grubx64.efi (the shim's)" list_in_order "$gets" \
  "/$LAB6_BOOT_FILE" /debian-installer/amd64/grubx64.efi
check "no IPv4 packet on either VM port" test "$(count ip)" -eq 0

check "nothing left behind: namespace" bash -c "! ip netns list | grep -qw -- '$LAB_NS'"
none_alive() { local p; for p in "$@"; do [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null || return 1; done; }
check "nothing left behind: VMs, servers, tshark" none_alive "${lab_pids[@]}"
[ "$SERVER" = pxed ] && check "nothing left behind: pins" test ! -e "/sys/fs/bpf/pxed/$LAB_BR"

echo "e2e: $passed passed, $failed failed, ${SECONDS}s ($SERVER)"
[ "$failed" -eq 0 ]
