#!/usr/bin/python3
"""A DHCP client on a VLAN trunk's access side that tags its own frames.

  vlan_client.py IFACE MAC [--tag TPID:VID]... [--timeout S]

Broadcasts a DISCOVER from MAC (chaddr) with the tags given, outermost first
(--tag 0x88a8:300 --tag 0x8100:30 is QinQ), waits for an OFFER, REQUESTs
its address from its server (SELECTING) with the same tags and waits for
the ACK. Prints one JSON document: for the OFFER and the ACK (null when
none came) yiaddr, option 54, the file field, the tags the reply carried
(outermost first, [tpid, tci]), its Ethernet and IP source. Exit 0; 2 when
a step timed out; 1 on bad usage.

Used where the kernel has no 802.1Q devices (CONFIG_VLAN_8021Q off) to put
tags on a client's frames: an AF_PACKET socket sends whole frames, so the
tags are the bytes written here. A receiving Linux interface moves the
outer tag of a frame out of its data (the packet socket reports it in
PACKET_AUXDATA); it is put back in front of the tags still in the frame.
Every wait is bounded.
"""
import argparse
import json
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
VLAN_TPIDS = (0x8100, 0x88A8)


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def mac_text(b):
    return ":".join("%02x" % x for x in b)


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def bootp(mac, xid, msg_type, extra_opts):
    fixed = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                        b"\0" * 4, mac + b"\0" * 10, b"\0" * 64, b"\0" * 128)
    opts = bytes([99, 130, 83, 99, 53, 1, msg_type]) + bytes([55, 4, 1, 3, 6, 67]) + extra_opts + bytes([255])
    msg = fixed + opts
    return msg + b"\0" * max(0, 300 - len(msg))


def frame(mac, tags, payload):
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\0" * 4, b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    eth = b"\xff" * 6 + mac
    for tpid, vid in tags:
        eth += struct.pack("!HH", tpid, vid)
    return eth + struct.pack("!H", 0x0800) + ip + udp


def options(b):
    out, i = {}, 0
    while i < len(b):
        code = b[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        n = b[i + 1]
        out[code] = b[i + 2:i + 2 + n]
        i += 2 + n
    return out


def parse_reply(data, aux_tag, xid):
    """The DHCP reply to xid in a received frame, or None."""
    tags = [list(aux_tag)] if aux_tag else []
    off = 12
    while off + 4 <= len(data) and struct.unpack("!H", data[off:off + 2])[0] in VLAN_TPIDS:
        tags.append(list(struct.unpack("!HH", data[off:off + 4])))
        off += 4
    if off + 2 + 20 + 8 + 240 > len(data) or struct.unpack("!H", data[off:off + 2])[0] != 0x0800:
        return None
    ip = data[off + 2:]
    ihl = (ip[0] & 0xF) * 4
    if ip[9] != 17:
        return None
    udp = ip[ihl:]
    sport, dport = struct.unpack("!HH", udp[:4])
    if sport != 67 or dport != 68:
        return None
    msg = udp[8:]
    if msg[0] != 2 or struct.unpack("!I", msg[4:8])[0] != xid or msg[236:240] != b"\x63\x82\x53\x63":
        return None
    opts = options(msg[240:])
    return {
        "type": opts.get(53, b"\0")[0],
        "yiaddr": socket.inet_ntoa(msg[16:20]),
        "server_id": socket.inet_ntoa(opts[54]) if len(opts.get(54, b"")) == 4 else None,
        "file": msg[108:236].split(b"\0", 1)[0].decode("latin-1"),
        "tags": tags,
        "src_mac": mac_text(data[6:12]),
        "src_ip": socket.inet_ntoa(ip[12:16]),
    }


def wait_for(sock, xid, want_type, timeout):
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(20))
        aux_tag = None
        for level, kind, val in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(val) >= 20:
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", val[:20])
                if status & TP_STATUS_VLAN_VALID:
                    aux_tag = (tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci)
        reply = parse_reply(data, aux_tag, xid)
        if reply and reply["type"] == want_type:
            return reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("mac")
    ap.add_argument("--tag", action="append", default=[], help="TPID:VID, outermost first")
    ap.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()
    try:
        tags = [(int(t.split(":")[0], 0), int(t.split(":")[1], 0)) for t in a.tag]
        mac = mac_bytes(a.mac)
    except (ValueError, IndexError):
        print("bad --tag or MAC", file=sys.stderr)
        return 1
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((a.iface, 0))
    xid = random.getrandbits(32)
    out = {"offer": None, "ack": None}
    sock.send(frame(mac, tags, bootp(mac, xid, 1, b"")))
    out["offer"] = wait_for(sock, xid, 2, a.timeout)
    if out["offer"] is None or out["offer"]["server_id"] is None:
        print(json.dumps(out))
        return 2
    req = bytes([50, 4]) + socket.inet_aton(out["offer"]["yiaddr"]) + bytes([54, 4]) + socket.inet_aton(
        out["offer"]["server_id"])
    sock.send(frame(mac, tags, bootp(mac, xid, 3, req)))
    out["ack"] = wait_for(sock, xid, 5, a.timeout)
    print(json.dumps(out))
    return 0 if out["ack"] else 2


if __name__ == "__main__":
    sys.exit(main())
