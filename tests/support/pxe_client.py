#!/usr/bin/python3
"""A PXE 2.1 client beside a proxyDHCP server, as firmware does it.

Run inside a network namespace on an interface without an address:
  1. broadcast a DISCOVER (port 68 -> 67) with the PXE options (60, 93, 94,
     97, and the option 55 of a PXE ROM), chaddr = the interface's MAC;
  2. collect every OFFER for a window: the address server's (yiaddr set)
     and the proxy's (yiaddr 0, option 60 "PXEClient");
  3. REQUEST the address from its server (broadcast, 54/50), wait for ACK;
  4. put the address on the interface (the kernel then sends from it and
     answers ARP for it) and ask the proxy on port 4011 (REQUEST, ciaddr
     set, optionally boot item 43.71); wait for the ACK from port 4011.
  5. with --renew, renew the address by unicast to its server's port 67 (what
     the booted OS does later: that must reach the address server).
Prints one JSON document: every OFFER, the ACK, the 4011 ACK (or null).
Exit 0; 2 when a step timed out (the JSON says which); 1 on bad usage.

--listen N only records, for N seconds or until SIGTERM, every DHCP reply on
the interface (what another client, dhcpcd, was sent): {"replies": [...]}.

Frames are sent and received on an AF_PACKET socket (the client has no
address, and the address server may unicast to an address the kernel does
not own yet); scapy builds the frames and dissects Ethernet/IP/UDP. The
BOOTP payload is built and read here byte for byte (options as hex by code),
so nothing scapy normalises hides a difference. Every wait is bounded.
"""
import argparse
import fcntl
import json
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

ETH_P_IP = 0x0800
SIOCGIFHWADDR = 0x8927
PACKET_OUTGOING = 4
COOKIE = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, ACK, NAK = 1, 2, 3, 5, 6
# A PXE ROM's option 55 (the PXE 2.1 spec's list plus 66/67/97).
PXE_PRL = bytes([1, 3, 43, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135])
PLAIN_PRL = bytes([1, 3, 6, 15, 28, 51, 54])


def iface_mac(ifname):
    # An ioctl, not /sys: the tests enter the namespace with nsenter --net,
    # which keeps the host's /sys.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s.fileno(), SIOCGIFHWADDR, struct.pack("256s", ifname.encode()[:15]))
    return ifr[18:24]


def opt(code, data):
    return bytes([code, len(data)]) + data


def bootp(xid, mac, options, ciaddr=b"\0" * 4, flags=0x8000):
    """A BOOTREQUEST with `options` (bytes, without cookie and end)."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, flags, ciaddr, b"\0" * 4, b"\0" * 4,
                      b"\0" * 4, mac.ljust(16, b"\0"), b"", b"")
    return hdr + COOKIE + options + b"\xff"


def parse_bootp(b):
    """The fields and options of a BOOTP/DHCP message, or None."""
    if len(b) < 240 or b[236:240] != COOKIE:
        return None
    op, _, hlen, _, xid, _, flags = struct.unpack("!BBBBIHH", b[:12])
    ip = lambda o: socket.inet_ntoa(b[o:o + 4])
    cstr = lambda s: s.split(b"\0", 1)[0].decode("latin-1")
    options, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        code, n = b[i], b[i + 1]
        # Repeated options concatenate (RFC 3396).
        options[str(code)] = options.get(str(code), "") + b[i + 2:i + 2 + n].hex()
        i += 2 + n
    mtype = int(options.get("53", "00")[:2], 16)
    return {"op": op, "xid": xid, "flags": flags, "ciaddr": ip(12), "yiaddr": ip(16), "siaddr": ip(20),
            "giaddr": ip(24), "chaddr": b[28:28 + hlen].hex(), "sname": cstr(b[44:108]), "file": cstr(b[108:236]),
            "type": mtype, "options": options,
            "server_id": socket.inet_ntoa(bytes.fromhex(options["54"])) if len(options.get("54", "")) == 8 else None}


def packet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((ifname, ETH_P_IP))
    return s


def frame(mac, payload, sport=68):
    return bytes(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255", ttl=64) /
                 UDP(sport=sport, dport=67) / payload)


def receive(s, deadline, want):
    """Replies (to port 68) until `deadline`; `want(reply)` returns True to stop."""
    got = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        if not select.select([s], [], [], left)[0]:
            return got
        data, addr = s.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        e = Ether(data)
        if IP not in e or UDP not in e or e[UDP].dport != 68:
            continue
        r = parse_bootp(bytes(e[UDP].payload))
        if not r or r["op"] != 2:
            continue
        r.update({"src_ip": e[IP].src, "src_port": e[UDP].sport, "dst_ip": e[IP].dst, "dst_mac": e.dst})
        got.append(r)
        if want(r):
            return got


def pxe_options(args, mtype):
    o = opt(53, bytes([mtype]))
    if args.vendor:
        o += opt(60, args.vendor.encode())
    if args.arch >= 0:
        o += opt(93, struct.pack("!H", args.arch)) + opt(94, bytes([1, 2, 1]))  # UNDI 2.1
        o += opt(97, b"\0" + bytes.fromhex(args.uuid))
    o += opt(55, PXE_PRL if args.vendor else PLAIN_PRL)
    return o


def listen(args):
    s = packet_socket(args.iface)
    if args.ready_file:
        open(args.ready_file, "w").close()
    # SIGTERM ends the recording early; what was seen is printed.
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    replies, deadline = [], time.monotonic() + args.listen
    while not stop and time.monotonic() < deadline:
        try:
            replies += receive(s, min(deadline, time.monotonic() + 0.2), lambda r: False)
        except InterruptedError:
            pass
    replies += receive(s, time.monotonic() + 0.2, lambda r: False)  # what is queued
    print(json.dumps({"replies": replies}, indent=1))
    return 0


def udp_exchange(args, src, dst, msg, xid):
    """Sends `msg` from `src` to `dst` (unicast, the client has its address)
    and returns the reply with `xid`, or None; sent twice, as PXE retries."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.iface.encode())
    u.bind(src)
    deadline = time.monotonic() + args.timeout
    try:
        for _ in range(2):
            u.sendto(msg, dst)
            step = min(deadline, time.monotonic() + args.timeout / 2)
            while time.monotonic() < step:
                if not select.select([u], [], [], step - time.monotonic())[0]:
                    break
                data, frm = u.recvfrom(65535)
                r = parse_bootp(data)
                if r and r["xid"] == xid and r["op"] == 2:
                    r.update({"src_ip": frm[0], "src_port": frm[1]})
                    return r
        return None
    finally:
        u.close()


def proxy_dialogue(args, out, addr, proxy):
    """Port 4011: a REQUEST with ciaddr, to the proxy's server id (or siaddr)."""
    target = proxy["server_id"] or proxy["siaddr"]
    o = pxe_options(args, REQUEST)
    if args.boot_item:
        t, layer = (int(x, 0) for x in args.boot_item.split(":"))
        o += opt(43, opt(71, struct.pack("!HH", t, layer)) + b"\xff")
    xid = (out["xid"] + 1) & 0xffffffff
    out["request_4011"] = {"to": target, "src_port": args.port, "xid": xid}
    msg = bootp(xid, args.mac, o, ciaddr=socket.inet_aton(addr), flags=0)
    return udp_exchange(args, (addr, args.port), (target, 4011), msg, xid)


def renew(args, out, addr, server):
    """What the booted OS does later: a unicast REQUEST (RENEWING) to the
    address server's port 67, which must reach it and not the proxy."""
    xid = (out["xid"] + 2) & 0xffffffff
    msg = bootp(xid, args.mac, opt(53, bytes([REQUEST])) + opt(55, PLAIN_PRL), ciaddr=socket.inet_aton(addr),
                flags=0)
    return udp_exchange(args, (addr, 68), (server, 67), msg, xid)


def client(args):
    s = packet_socket(args.iface)
    xid = args.xid if args.xid is not None else random.getrandbits(32)
    out = {"mac": args.mac.hex(), "xid": xid, "offers": [], "ack": None, "ack_4011": None, "renew_ack": None,
           "timeout": None}
    s.send(frame(args.mac, bootp(xid, args.mac, pxe_options(args, DISCOVER)), args.src_port))
    replies = receive(s, time.monotonic() + args.window, lambda r: False)
    out["offers"] = [r for r in replies if r["xid"] == xid and r["type"] == OFFER]
    address = next((r for r in out["offers"] if r["yiaddr"] != "0.0.0.0"), None)
    proxy = next((r for r in out["offers"] if r["yiaddr"] == "0.0.0.0" and
                  bytes.fromhex(r["options"].get("60", "")).startswith(b"PXEClient")), None)
    if not out["offers"]:
        out["timeout"] = "offer"
        return out, 2
    if not address or args.no_request:
        return out, 0
    o = pxe_options(args, REQUEST) + opt(50, socket.inet_aton(address["yiaddr"]))
    o += opt(54, socket.inet_aton(address["server_id"] or address["src_ip"]))
    s.send(frame(args.mac, bootp(xid, args.mac, o), args.src_port))
    done = lambda r: r["xid"] == xid and r["type"] in (ACK, NAK) and r["server_id"] == address["server_id"]
    acks = [r for r in receive(s, time.monotonic() + args.timeout, done) if done(r)]
    if not acks:
        out["timeout"] = "ack"
        return out, 2
    out["ack"] = acks[0]
    if acks[0]["type"] != ACK or ((not proxy or args.no_4011) and not args.renew):
        return out, 0
    # The kernel sends from the address and answers ARP for it only once
    # the interface holds it: as firmware does once it has the ACK.
    addr = acks[0]["yiaddr"]
    prefix = bin(int(acks[0]["options"].get("1", "ffffff00"), 16)).count("1")
    added = subprocess.run(["ip", "addr", "add", f"{addr}/{prefix}", "dev", args.iface],
                           capture_output=True).returncode == 0
    try:
        if proxy and not args.no_4011:
            out["ack_4011"] = proxy_dialogue(args, out, addr, proxy)
            if out["ack_4011"] is None:
                out["timeout"] = "ack_4011"
                return out, 2
        if args.renew:
            out["renew_ack"] = renew(args, out, addr, acks[0]["server_id"] or acks[0]["src_ip"])
            if out["renew_ack"] is None:
                out["timeout"] = "renew"
                return out, 2
        return out, 0
    finally:
        if added and not args.keep_address:
            subprocess.run(["ip", "addr", "del", f"{addr}/{prefix}", "dev", args.iface], capture_output=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--arch", type=int, default=0, help="option 93; -1 leaves out 93, 94 and 97")
    p.add_argument("--vendor", help="option 60 (default PXEClient:Arch:<arch>:UNDI:002001; '' for none)")
    p.add_argument("--uuid", default="00112233445566778899aabbccddeeff", help="option 97's GUID (hex)")
    p.add_argument("--xid", type=lambda x: int(x, 0))
    p.add_argument("--boot-item", help="TYPE:LAYER sent as option 43.71 to port 4011")
    p.add_argument("--window", type=float, default=2.0, help="seconds to collect OFFERs")
    p.add_argument("--timeout", type=float, default=4.0, help="seconds to wait for each ACK")
    p.add_argument("--src-port", type=int, default=68, help="source port of DISCOVER and REQUEST")
    p.add_argument("--port", type=int, default=68, help="source port of the port 4011 REQUEST")
    p.add_argument("--no-request", action="store_true", help="stop after the OFFERs")
    p.add_argument("--no-4011", action="store_true", help="stop after the ACK")
    p.add_argument("--renew", action="store_true", help="then renew the address by unicast to its server")
    p.add_argument("--keep-address", action="store_true", help="leave the acked address on the interface")
    p.add_argument("--listen", type=float, help="only record replies for this many seconds")
    p.add_argument("--ready-file", help="--listen: created once the socket is open")
    args = p.parse_args()
    if args.listen is not None:
        return listen(args)
    if not 0 < args.window <= 30 or not 0 < args.timeout <= 30:
        p.error("--window and --timeout must be in (0, 30]")
    if args.vendor is None:
        args.vendor = f"PXEClient:Arch:{max(args.arch, 0):05d}:UNDI:002001"
    args.mac = iface_mac(args.iface)
    out, rc = client(args)
    print(json.dumps(out, indent=1))
    return rc


if __name__ == "__main__":
    sys.exit(main())
