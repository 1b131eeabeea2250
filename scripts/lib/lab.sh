# shellcheck shell=bash
# The PXE lab of the classic tutorial, inside a network namespace: a bridge
# br0 (192.0.2.1/24), one tap port per VM, pxed serving br0 with XDP in
# generic mode, and a boot root built from Debian 12's netboot tree (text
# variant). Sourced by scripts/demo and tests/e2e; lab_down removes
# everything lab_up made.
#
# Variables: LAB_NS (namespace), LAB_DIR (work directory), LAB_BUILD (build
# directory with userspace/pxed), LAB_BR (the bridge, default br0: pxed pins
# its maps under /sys/fs/bpf/pxed/<bridge>, which all namespaces share),
# LAB_BOOT_IPXE (optional: the [subnet.boot] ipxe URL for iPXE clients).
# Functions set LAB_PXED_PID, LAB_VM_PIDS and LAB_DNSMASQ_PID.
#
# Proxy mode (lab_up_proxy, lab_address_server): pxed serves br0's subnet as
# proxyDHCP and dnsmasq, in a second namespace on a veth port of br0 (a
# second machine on the segment), hands out the addresses.

LAB_NS=${LAB_NS:-pxed-lab}
LAB_BR=${LAB_BR:-br0}
LAB_BOOT_IPXE=${LAB_BOOT_IPXE:-}
LAB_NETBOOT=/usr/lib/debian-installer/images/12/amd64/text
LAB_VM_PIDS=()
LAB_PXED_PID=
LAB_TSHARK_PID=
LAB_DNSMASQ_PID=

# nsenter without --fork execs the program: a background "nsenter ... &"
# leaves $! the program's own pid, so lab_down's signals reach it (a shell
# function run in the background would leave $! a subshell's pid).
lab_nsexec() { nsenter --net="/run/netns/$LAB_NS" "$@"; }

# The boot root: the netboot tree as the tutorial serves it, plus per-VM
# pxelinux.cfg/01-<mac> entries and a GRUB menu that boot the installer on
# the serial console without waiting.
lab_root() {
  local root=$LAB_DIR/root
  cp -a "$LAB_NETBOOT" "$root"
  rm -f "$root/pxelinux.cfg"
  mkdir -p "$root/pxelinux.cfg"
  ln -s ../debian-installer/amd64/boot-screens/syslinux.cfg "$root/pxelinux.cfg/default"
  cat >"$root/debian-installer/amd64/grub/grub.cfg" <<'GRUB'
set timeout=1
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry 'Install over the serial console (pxed lab)' {
    linux /debian-installer/amd64/linux console=ttyS0,115200n8 --- console=ttyS0,115200n8
    initrd /debian-installer/amd64/initrd.gz
}
GRUB
  chmod 644 "$root/debian-installer/amd64/grub/grub.cfg"
}

# pxelinux entry for one MAC: the tutorial's menu (menu files, splash.png),
# then after a second the installer with console=ttyS0.
lab_pxelinux_entry() {
  local mac=$1 f
  f="$LAB_DIR/root/pxelinux.cfg/01-$(echo "$mac" | tr ':' '-' | tr 'A-F' 'a-f')"
  cat >"$f" <<ENTRY
serial 0 115200
path debian-installer/amd64/boot-screens/
include debian-installer/amd64/boot-screens/menu.cfg
default debian-installer/amd64/boot-screens/vesamenu.c32
label pxedlab
  menu label ^Install over the serial console (pxed lab)
  kernel debian-installer/amd64/linux
  append vga=normal initrd=debian-installer/amd64/initrd.gz console=ttyS0,115200n8 --- console=ttyS0,115200n8
timeout 10
ontimeout pxedlab
ENTRY
  chmod 644 "$f"
}

# lab_net: namespace, bridge and boot root, no server (lab_up adds pxed).
lab_net() {
  [ -d "$LAB_NETBOOT" ] || { echo "lab: $LAB_NETBOOT missing: install debian-installer-12-netboot-amd64" >&2; return 1; }
  ip netns del "$LAB_NS" 2>/dev/null || true
  mkdir -p "$LAB_DIR"
  ip netns add "$LAB_NS"
  ip -n "$LAB_NS" link set lo up
  ip -n "$LAB_NS" link add "$LAB_BR" type bridge
  ip -n "$LAB_NS" addr add 192.0.2.1/24 dev "$LAB_BR"
  ip -n "$LAB_NS" link set "$LAB_BR" up
  lab_root
}

# lab_up RESERVED_MAC...: namespace, bridge, boot root, configuration, pxed.
lab_up() {
  lab_net || return 1
  local ipxe=""
  [ -n "$LAB_BOOT_IPXE" ] && ipxe=", ipxe = \"$LAB_BOOT_IPXE\""
  {
    echo '[server]'
    echo "interfaces = [\"$LAB_BR\"]"
    echo "lease-db = \"$LAB_DIR/leases.db\""
    echo "tftp-root = \"$LAB_DIR/root\""
    echo "control-socket = \"$LAB_DIR/pxed.sock\""
    echo 'xdp = "generic"'
    echo
    echo '[[subnet]]'
    echo 'cidr = "192.0.2.0/24"'
    echo 'range = ["192.0.2.100", "192.0.2.150"]'
    echo 'router = "192.0.2.1"'
    echo 'dns = ["192.0.2.1"]'
    echo 'lease-time = 3600'
    echo "boot = { bios = \"pxelinux.0\", uefi-x64 = \"debian-installer/amd64/bootnetx64.efi\"$ipxe }"
    local i=10 mac
    for mac in "$@"; do
      echo
      echo '[[reservation]]'
      echo "mac = \"$mac\""
      echo "ip = \"192.0.2.$i\""
      echo "hostname = \"vm$i\""
      i=$((i + 1))
    done
  } >"$LAB_DIR/pxed.toml"
  lab_pxed
}

# lab_pxed: starts pxed on $LAB_DIR/pxed.toml and waits until it is ready.
lab_pxed() {
  nsenter --net="/run/netns/$LAB_NS" "$LAB_BUILD/userspace/pxed" --config "$LAB_DIR/pxed.toml" --log-level debug >"$LAB_DIR/pxed.log" 2>&1 &
  LAB_PXED_PID=$!
  local _
  for _ in $(seq 100); do grep -q ' ready' "$LAB_DIR/pxed.log" 2>/dev/null && return 0; sleep 0.1; done
  cat "$LAB_DIR/pxed.log" >&2
  echo "lab: pxed did not start" >&2
  return 1
}

# lab_up_proxy: as lab_up, but pxed is br0's proxyDHCP: boot information
# and TFTP only; another server (lab_address_server) hands out addresses.
lab_up_proxy() {
  lab_net || return 1
  cat >"$LAB_DIR/pxed.toml" <<TOML
[server]
interfaces = ["$LAB_BR"]
lease-db = "$LAB_DIR/leases.db"
tftp-root = "$LAB_DIR/root"
control-socket = "$LAB_DIR/pxed.sock"
xdp = "generic"

[[subnet]]
cidr = "192.0.2.0/24"
proxy = true
boot = { bios = "pxelinux.0", uefi-x64 = "debian-installer/amd64/bootnetx64.efi" }
TOML
  lab_pxed
}

# lab_address_server [DNSMASQ_OPTION...]: dnsmasq as the segment's DHCP
# server, DHCP only (no DNS, no TFTP, no PXE: no port 53, 69 or 4011),
# 192.0.2.2 in the namespace $LAB_NS-dhcp on a veth port of br0. A
# namespace of its own, as a second machine: the XDP program on br0 may
# answer a DISCOVER before br0's stack sees it; the bridge has already
# flooded it to the veth port then.
lab_address_server() {
  local ns=$LAB_NS-dhcp
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
  ip -n "$LAB_NS" link add veth-dhcp type veth peer name eth0 netns "$ns"
  ip -n "$LAB_NS" link set veth-dhcp master "$LAB_BR"
  ip -n "$LAB_NS" link set veth-dhcp up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 192.0.2.2/24 dev eth0
  ip -n "$ns" link set eth0 up
  nsenter --net="/run/netns/$ns" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root --group=root \
    --interface=eth0 --bind-interfaces --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h \
    --dhcp-option=option:router,192.0.2.1 --dhcp-leasefile="$LAB_DIR/dnsmasq.leases" \
    --no-ping --log-dhcp --log-facility="$LAB_DIR/dnsmasq.log" --pid-file= "$@" >"$LAB_DIR/dnsmasq.out" 2>&1 &
  LAB_DNSMASQ_PID=$!
  local _
  for _ in $(seq 100); do grep -q 'DHCP, IP range' "$LAB_DIR/dnsmasq.log" 2>/dev/null && return 0; sleep 0.1; done
  cat "$LAB_DIR/dnsmasq.out" "$LAB_DIR/dnsmasq.log" >&2
  echo "lab: dnsmasq did not start" >&2
  return 1
}

# lab_port NAME: the VM's tap port on br0, lab_tap NAME its name.
lab_tap() { echo "tap-${1:0:11}"; }
lab_port() {
  local tap
  tap=$(lab_tap "$1")
  ip -n "$LAB_NS" link show "$tap" >/dev/null 2>&1 && return 0
  ip -n "$LAB_NS" tuntap add "$tap" mode tap
  ip -n "$LAB_NS" link set "$tap" master "$LAB_BR"
  ip -n "$LAB_NS" link set "$tap" up
}

# lab_capture: tshark on br0 and on every VM port made so far (DHCP, the
# PXE boot server's port 4011 and TFTP read requests: the data
# blocks, from pxed's port 69 too, would make the capture 170 MB)
# into $LAB_DIR/capture.pcap (pcapng, one interface per port). br0 shows
# what reaches the daemon, as in the tutorial; the replies the XDP program
# sends with XDP_TX, and the requests it answers, bypass br0's packet taps
# and are seen only on the VM's port.
lab_capture() {
  local ifs=(-i "$LAB_BR") tap
  for tap in $(ip -n "$LAB_NS" -o link show type tun | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
    ifs+=(-i "$tap")
  done
  nsenter --net="/run/netns/$LAB_NS" tshark "${ifs[@]}" -n -q -w "$LAB_DIR/capture.pcap" \
    -f 'udp port 67 or udp port 68 or udp port 4011 or udp dst port 69' >"$LAB_DIR/tshark.log" 2>&1 &
  LAB_TSHARK_PID=$!
  local _
  for _ in $(seq 100); do grep -q 'Capturing on' "$LAB_DIR/tshark.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "lab: tshark did not start" >&2
  return 1
}

# lab_vm NAME MAC bios|uefi: a QEMU VM (TCG) on its tap port of br0 (made
# here unless lab_port made it before), serial console in $LAB_DIR/NAME.serial.
lab_vm() {
  local name=$1 mac=$2 fw=$3 tap
  tap=$(lab_tap "$name")
  lab_port "$name"
  # UEFI: OVMF's own PXE; QEMU's iPXE ROM cannot load the Debian shim's grubx64.efi.
  local rom=""
  [ "$fw" = uefi ] && rom=",romfile="
  local args=(-machine q35 -accel tcg -m 1024 -display none -monitor none -no-reboot
    -serial "file:$LAB_DIR/$name.serial"
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
    -device "virtio-net-pci,netdev=n0,mac=$mac${rom}")
  if [ "$fw" = uefi ]; then
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$LAB_DIR/$name.vars"
    args+=(-drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
      -drive "if=pflash,format=raw,file=$LAB_DIR/$name.vars")
  else
    args+=(-boot n)
  fi
  lab_pxelinux_entry "$mac"
  nsenter --net="/run/netns/$LAB_NS" qemu-system-x86_64 "${args[@]}" >"$LAB_DIR/$name.qemu.log" 2>&1 &
  LAB_VM_PIDS+=($!)
}

# lab_wait_serial NAME PATTERN SECONDS: waits until the VM's console shows PATTERN.
lab_wait_serial() {
  local name=$1 pattern=$2 secs=$3 _
  for _ in $(seq $((secs * 2))); do
    grep -aq -- "$pattern" "$LAB_DIR/$name.serial" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

# lab_stop PID SIGNAL: sends SIGNAL, waits up to 10 s, then SIGKILL.
lab_stop() {
  local pid=$1 sig=$2 _
  [ -n "$pid" ] || return 0
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

lab_down() {
  local p
  for p in "${LAB_VM_PIDS[@]}"; do lab_stop "$p" TERM; done
  # tshark writes out the capture on SIGTERM.
  lab_stop "$LAB_TSHARK_PID" TERM
  # SIGTERM: pxed detaches its XDP program and removes its pins.
  lab_stop "$LAB_PXED_PID" TERM
  lab_stop "$LAB_DNSMASQ_PID" TERM
  ip netns del "$LAB_NS" 2>/dev/null || true
  ip netns del "$LAB_NS-dhcp" 2>/dev/null || true
  LAB_VM_PIDS=()
  LAB_PXED_PID=
  LAB_TSHARK_PID=
  LAB_DNSMASQ_PID=
}
