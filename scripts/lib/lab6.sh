# shellcheck shell=bash
# The PXE lab over IPv6 only, beside lab.sh (source lab.sh first: the
# namespace, tap ports, waits and lab_down are its). A bridge with
# fd00:e6::1/64 and no IPv4 address at all, the Debian 12 netboot tree, and
# the boot servers on that address: either pxed, or real peers (dnsmasq 2.90
# for DHCPv6 and TFTP, Kea 2.2 for the HTTP boot clients' DHCPv6, python's
# http.server). OVMF VMs boot from it with UEFI PXE over IPv6 or UEFI HTTP
# boot over IPv6. lab6_down removes everything lab6_* made.
#
# Variables: as lab.sh (LAB_NS, LAB_DIR, LAB_BUILD, LAB_BR). Functions set
# LAB_KEA_PID and LAB_HTTP_PID besides lab.sh's.

LAB6_SERVER=fd00:e6::1
LAB6_PREFIX=fd00:e6::/64
LAB6_RANGE=(fd00:e6::100 fd00:e6::1ff)
# What both boot methods load: Debian's signed shim, which then fetches
# grubx64.efi from the same server by the same protocol (TFTP or HTTP).
LAB6_BOOT_FILE=debian-installer/amd64/bootnetx64.efi
LAB_KEA_PID=
LAB_HTTP_PID=

# lab6_net: namespace, bridge, boot root; no server yet.
lab6_net() {
  [ -d "$LAB_NETBOOT" ] || { echo "lab6: $LAB_NETBOOT missing: install debian-installer-12-netboot-amd64" >&2; return 1; }
  ip netns del "$LAB_NS" 2>/dev/null || true
  mkdir -p "$LAB_DIR"
  ip netns add "$LAB_NS"
  ip -n "$LAB_NS" link set lo up
  # No multicast snooping: with it the bridge itself joins the snoopers'
  # groups (224.0.0.106, ff02::6a) and sends an IGMPv3 report from 0.0.0.0
  # onto every port, the one IPv4 packet of this IPv6-only segment (the
  # check on it failed whenever the capture saw that report). Unsnooped,
  # the bridge floods multicast, ff02::1:2 included, to every port.
  ip -n "$LAB_NS" link add "$LAB_BR" type bridge mcast_snooping 0
  # No DAD: the addresses, the link-local one too, are usable at once
  # (the servers bind to them as they start; Kea to the link-local one).
  ip netns exec "$LAB_NS" sysctl -qw "net.ipv6.conf.$LAB_BR.accept_dad=0"
  ip -n "$LAB_NS" addr add "$LAB6_SERVER/64" dev "$LAB_BR" nodad
  ip -n "$LAB_NS" link set "$LAB_BR" up
  # A bridge without a running port has no carrier, and Kea opens no
  # socket on an interface that is not running: a veth pair keeps it up.
  ip -n "$LAB_NS" link add veth-up0 type veth peer name veth-up1
  ip -n "$LAB_NS" link set veth-up0 master "$LAB_BR"
  ip -n "$LAB_NS" link set veth-up0 up
  ip -n "$LAB_NS" link set veth-up1 up
  lab6_root
}

# The boot root: the netboot tree, with a grub.cfg that shows GRUB read it
# (and from where) and then ends the VM (QEMU runs with -no-reboot).
lab6_root() {
  local root=$LAB_DIR/root
  cp -a "$LAB_NETBOOT" "$root"
  cat >"$root/debian-installer/amd64/grub/grub.cfg" <<'GRUB'
echo "pxed-lab6: grub.cfg read from ($root)"
sleep 1
reboot
GRUB
  chmod 644 "$root/debian-installer/amd64/grub/grub.cfg"
}

# lab6_pxed: pxed serves DHCPv6, TFTP and HTTP on the bridge. The only
# place the test's [[subnet6]] is written. A path in [subnet6.boot] becomes
# tftp://[server]/path, or http://[server]/path for an HTTPClient.
lab6_pxed() {
  cat >"$LAB_DIR/pxed.toml" <<TOML
[server]
interfaces = ["$LAB_BR"]
lease-db = "$LAB_DIR/leases.db"
tftp-root = "$LAB_DIR/root"
control-socket = "$LAB_DIR/pxed.sock"
http-port = 80
xdp = "generic"

[[subnet6]]
prefix = "$LAB6_PREFIX"
range = ["${LAB6_RANGE[0]}", "${LAB6_RANGE[1]}"]
preference = 255
[subnet6.boot]
uefi-x64 = "$LAB6_BOOT_FILE"
uefi-http = "$LAB6_BOOT_FILE"
TOML
  lab_pxed
}

# lab6_peers: the real peers. dnsmasq answers the PXE clients (option 59
# tftp://) and serves TFTP; it ignores the HTTP boot clients, whose offer
# must carry option 16 with enterprise 343 and "HTTPClient": dnsmasq sends
# its option6:16 as a length-prefixed string, without the enterprise
# number, and the firmware rejects that offer. Kea answers them instead and
# drops every other Solicit; python's http.server serves the root on port 80.
lab6_peers() {
  local http_url=http://[$LAB6_SERVER]/$LAB6_BOOT_FILE
  nsenter --net="/run/netns/$LAB_NS" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root --group=root \
    --interface="$LAB_BR" --bind-interfaces --dhcp-range="${LAB6_RANGE[0]},${LAB6_RANGE[1]},64,1h" \
    --dhcp-option="option6:bootfile-url,tftp://[$LAB6_SERVER]/$LAB6_BOOT_FILE" \
    --dhcp-vendorclass=set:http,enterprise:343,HTTPClient --dhcp-ignore=tag:http \
    --enable-tftp --tftp-root="$LAB_DIR/root" --dhcp-leasefile="$LAB_DIR/dnsmasq.leases" \
    --log-dhcp --log-facility="$LAB_DIR/dnsmasq.log" --pid-file= >"$LAB_DIR/dnsmasq.out" 2>&1 &
  LAB_DNSMASQ_PID=$!
  # Kea: HTTPClient Solicits only (the DROP class); a Request, Release
  # and the like carry no vendor class and must still be answered (the
  # firmware waits for the Release's Reply before it starts the image).
  cat >"$LAB_DIR/kea.json" <<KEA
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "$LAB_BR" ] },
  "lease-database": { "type": "memfile", "persist": false },
  "data-directory": "$LAB_DIR", "server-id": { "type": "LL", "persist": false },
  "client-classes": [
    { "name": "HTTP", "test": "substring(option[16].hex,6,10) == 'HTTPClient'",
      "option-data": [ { "code": 16, "csv-format": false, "data": "00000157000A48545450436C69656E74" },
                       { "name": "bootfile-url", "data": "$http_url" } ] },
    { "name": "DROP", "test": "pkt6.msgtype == 1 and not (substring(option[16].hex,6,10) == 'HTTPClient')" } ],
  "subnet6": [ { "subnet": "$LAB6_PREFIX", "interface": "$LAB_BR",
                 "pools": [ { "pool": "fd00:e6::200-fd00:e6::2ff" } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "output_options": [ { "output": "$LAB_DIR/kea.log" } ], "severity": "INFO" } ]
} }
KEA
  KEA_PIDFILE_DIR=$LAB_DIR KEA_LOCKFILE_DIR=$LAB_DIR \
    nsenter --net="/run/netns/$LAB_NS" kea-dhcp6 -c "$LAB_DIR/kea.json" >"$LAB_DIR/kea.out" 2>&1 &
  LAB_KEA_PID=$!
  nsenter --net="/run/netns/$LAB_NS" python3 -m http.server --bind "$LAB6_SERVER" --directory "$LAB_DIR/root" 80 \
    >"$LAB_DIR/http.log" 2>&1 &
  LAB_HTTP_PID=$!
  lab6_ready dnsmasq "DHCPv6, IP range" "$LAB_DIR/dnsmasq.log" || return 1
  lab6_ready kea DHCP6_STARTED "$LAB_DIR/kea.log" || return 1
  # Kea starts even when it could open no socket.
  if grep -q DHCPSRV_OPEN_SOCKET_FAIL "$LAB_DIR/kea.log"; then
    cat "$LAB_DIR/kea.log" >&2
    echo "lab6: kea opened no socket" >&2
    return 1
  fi
  lab6_ready http.server "Serving HTTP" "$LAB_DIR/http.log" || return 1
}

# lab6_ready NAME PATTERN LOG: waits up to 10 s for PATTERN in LOG.
lab6_ready() {
  local _
  for _ in $(seq 100); do grep -q "$2" "$3" 2>/dev/null && return 0; sleep 0.1; done
  cat "$3" "$LAB_DIR/$1.out" 2>/dev/null >&2
  echo "lab6: $1 did not start" >&2
  return 1
}

# lab6_capture: tshark on every VM port made so far: DHCPv6, TFTP read
# requests, HTTP, and any IPv4 at all (there should be none) into
# $LAB_DIR/capture.pcap.
lab6_capture() {
  local ifs=() tap
  for tap in $(ip -n "$LAB_NS" -o link show type tun | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
    ifs+=(-i "$tap")
  done
  nsenter --net="/run/netns/$LAB_NS" tshark "${ifs[@]}" -n -q -w "$LAB_DIR/capture.pcap" \
    -f 'udp port 546 or udp port 547 or udp dst port 69 or tcp port 80 or ip' >"$LAB_DIR/tshark.log" 2>&1 &
  LAB_TSHARK_PID=$!
  local _
  for _ in $(seq 100); do grep -q 'Capturing on' "$LAB_DIR/tshark.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "lab6: tshark did not start" >&2
  return 1
}

# lab6_vm NAME MAC pxe|http: an OVMF VM (TCG) on its tap port. Debian 12's
# OVMF (edk2 2022.11) honours the fw_cfg switches: IPv4Support=no leaves
# out the IPv4 stack (no PXEv4 or HTTPv4 option, each of which would wait
# ~60 s for a DHCPv4 answer first), IPv6PXESupport=no the PXEv6 option.
# HTTP: its DHCPv6 starts before the link-local address has passed DAD
# when it is the first network option, fails with EFI_NO_MAPPING and is
# not retried (fixed in edk2 in 2025); the boot menu wait (5 s, after the
# drivers are connected) lets DAD finish first.
lab6_vm() {
  local name=$1 mac=$2 how=$3 tap
  tap=$(lab_tap "$name")
  lab_port "$name"
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$LAB_DIR/$name.vars"
  local args=(-machine q35 -accel tcg -m 1024 -display none -monitor none -no-reboot
    -serial "file:$LAB_DIR/$name.serial"
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
    -device "virtio-net-pci,netdev=n0,mac=$mac,romfile="
    -drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
    -drive "if=pflash,format=raw,file=$LAB_DIR/$name.vars"
    -fw_cfg name=opt/org.tianocore/IPv4Support,string=no)
  [ "$how" = http ] && args+=(-fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no -boot menu=on,splash-time=5000)
  nsenter --net="/run/netns/$LAB_NS" qemu-system-x86_64 "${args[@]}" >"$LAB_DIR/$name.qemu.log" 2>&1 &
  LAB_VM_PIDS+=($!)
}

# lab6_wait_serial NAME PATTERN SECONDS: as lab_wait_serial, but gives up
# as soon as the firmware falls back to its shell (every boot option failed).
lab6_wait_serial() {
  local name=$1 pattern=$2 secs=$3 _
  for _ in $(seq $((secs * 2))); do
    grep -aq -- "$pattern" "$LAB_DIR/$name.serial" 2>/dev/null && return 0
    if grep -aq 'loading Boot[0-9A-F]* "EFI Internal Shell"' "$LAB_DIR/$name.serial" 2>/dev/null; then
      echo "     $name: every boot option failed (the firmware started its shell)"
      return 1
    fi
    sleep 0.5
  done
  return 1
}

lab6_down() {
  local p
  for p in "${LAB_VM_PIDS[@]}"; do lab_stop "$p" TERM; done
  LAB_VM_PIDS=()
  lab_stop "$LAB_KEA_PID" TERM
  lab_stop "$LAB_HTTP_PID" TERM
  LAB_KEA_PID=
  LAB_HTTP_PID=
  lab_down
}
