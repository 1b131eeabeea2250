#!/usr/bin/python3
"""DHCPv6 dialogues against a server on the link, byte for byte.

What docs/notes/dhcp6-peers.md was written from, and what makes
tests/fixtures/dhcp6/ (capture-kea.sh). Two uses:

  dhcp6_probe.py IFACE OUTDIR SCENARIO...   (inside the client's namespace)
      sends each scenario's messages from the interface's link-local
      address, port 546, to ff02::1:2 port 547 (one scenario sends unicast),
      prints every message and reply decoded (options by code, IA contents,
      status codes) and writes the payloads as hex to
      OUTDIR/<scenario>.<n>.query.hex and OUTDIR/<scenario>.<n>.reply.hex,
      n counting the scenario's messages from 1. Every wait is bounded
      (WAIT seconds per message); "no reply" is printed, not an error.
  dhcp6_probe.py --decode PCAP
      every DHCPv6 payload of a capture (tshark), decoded the same way.

Each scenario is one client (DUID-LL from its place in SCENARIOS), so
runs against a fresh server give the same bytes every time.
"""
import os
import socket
import struct
import subprocess
import sys
import time

WAIT = 1.5
MSG = {1: "Solicit", 2: "Advertise", 3: "Request", 4: "Confirm", 5: "Renew", 6: "Rebind", 7: "Reply",
       8: "Release", 9: "Decline", 10: "Reconfigure", 11: "Information-request"}
STATUS = {0: "Success", 1: "UnspecFail", 2: "NoAddrsAvail", 3: "NoBinding", 4: "NotOnLink", 5: "UseMulticast",
          6: "NoPrefixAvail"}


def opt(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def duid_ll(n):
    return struct.pack("!HH", 3, 1) + bytes([0x52, 0x54, 0x00, 0x6b, 0x10, n])


def ia_na(iaid, addrs=(), t1=0, t2=0, pref=0, valid=0):
    sub = b"".join(opt(5, socket.inet_pton(socket.AF_INET6, a) + struct.pack("!II", pref, valid)) for a in addrs)
    return opt(3, struct.pack("!III", iaid, t1, t2) + sub)


def oro(*codes):
    return opt(6, b"".join(struct.pack("!H", c) for c in codes))


ELAPSED = opt(8, b"\0\0")


def msg(mtype, xid, *opts):
    return bytes([mtype]) + xid.to_bytes(3, "big") + b"".join(opts)


def parse_opts(b):
    out = []
    while len(b) >= 4:
        code, ln = struct.unpack("!HH", b[:4])
        out.append((code, b[4:4 + ln]))
        b = b[4 + ln:]
    return out


def duid_text(d):
    t = struct.unpack("!H", d[:2])[0]
    name = {1: "LLT", 2: "EN", 3: "LL", 4: "UUID"}.get(t, str(t))
    return f"DUID-{name} {d.hex()}"


def show(opts, ind="  "):
    lines = []
    for code, d in opts:
        if code in (1, 2):
            lines.append(f"{ind}{code} {'client' if code == 1 else 'server'}-id {duid_text(d)}")
        elif code == 3:
            iaid, t1, t2 = struct.unpack("!III", d[:12])
            lines.append(f"{ind}3 IA_NA iaid={iaid} T1={t1} T2={t2}")
            lines += show(parse_opts(d[12:]), ind + "    ")
        elif code == 25:
            iaid, t1, t2 = struct.unpack("!III", d[:12])
            lines.append(f"{ind}25 IA_PD iaid={iaid} T1={t1} T2={t2}")
            lines += show(parse_opts(d[12:]), ind + "    ")
        elif code == 5:
            a = socket.inet_ntop(socket.AF_INET6, d[:16])
            p, v = struct.unpack("!II", d[16:24])
            lines.append(f"{ind}5 IAADDR {a} preferred={p} valid={v}")
            lines += show(parse_opts(d[24:]), ind + "    ")
        elif code == 13:
            s = struct.unpack("!H", d[:2])[0]
            lines.append(f"{ind}13 Status {s} {STATUS.get(s, '?')} \"{d[2:].decode(errors='replace')}\"")
        elif code == 7:
            lines.append(f"{ind}7 Preference {d[0]}")
        elif code == 14:
            lines.append(f"{ind}14 Rapid-commit")
        elif code == 23:
            addrs = [socket.inet_ntop(socket.AF_INET6, d[i:i + 16]) for i in range(0, len(d), 16)]
            lines.append(f"{ind}23 DNS {' '.join(addrs)}")
        elif code == 59:
            lines.append(f"{ind}59 Bootfile-URL \"{d.decode(errors='replace')}\"")
        elif code == 32:
            lines.append(f"{ind}32 Information-refresh-time {struct.unpack('!I', d)[0]}")
        elif code == 6:
            lines.append(f"{ind}6 ORO {[struct.unpack('!H', d[i:i + 2])[0] for i in range(0, len(d), 2)]}")
        else:
            lines.append(f"{ind}{code} len={len(d)} {d.hex()}")
    return lines


class Client:
    def __init__(self, iface, outdir):
        self.ifindex = socket.if_nametoindex(iface)
        ll = [ln.split()[3].split("/")[0] for ln in os.popen(f"ip -6 -o addr show dev {iface} scope link")][0]
        self.s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((ll, 546, 0, self.ifindex))
        self.outdir = outdir
        self.xid = 0x6b0000
        self.label = ""
        self.n = 0

    def save(self, kind, data):
        with open(f"{self.outdir}/{self.label}.{self.n}.{kind}.hex", "w") as f:
            f.write(data.hex() + "\n")

    def ask(self, mtype, *opts, wait=WAIT, dst="ff02::1:2"):
        """Sends one message, returns [(type, options)] of every reply to its xid."""
        self.xid += 1
        m = msg(mtype, self.xid, *opts)
        self.n += 1
        self.save("query", m)
        print(f"> {MSG[mtype]} xid={self.xid:06x} -> {self.label}.{self.n}.query.hex")
        print("\n".join(show(parse_opts(m[4:]))))
        self.s.sendto(m, (dst, 547, 0, self.ifindex))
        replies, end = [], time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            self.s.settimeout(left)
            try:
                data, src = self.s.recvfrom(2048)
            except socket.timeout:
                break
            if int.from_bytes(data[1:4], "big") != self.xid:
                continue
            self.save("reply", data)
            print(f"< {MSG.get(data[0], data[0])} from {src[0]} ({len(data)} bytes) -> {self.label}.{self.n}.reply.hex")
            print("\n".join(show(parse_opts(data[4:]))))
            replies.append((data[0], parse_opts(data[4:])))
        if not replies:
            print(f"< (no reply within {wait} s)")
        return replies


def first(replies, code):
    for _, opts in replies:
        for c, d in opts:
            if c == code:
                return d
    return None


def addr_of(replies):
    ia = first(replies, 3)
    for c, d in parse_opts(ia[12:]) if ia else []:
        if c == 5:
            return socket.inet_ntop(socket.AF_INET6, d[:16])
    return None


def bind(c, n, iaid=1):
    """Solicit + Request for DUID-LL n: (server id, address)."""
    cid = opt(1, duid_ll(n))
    adv = c.ask(1, cid, ELAPSED, oro(23, 59), ia_na(iaid))
    sid = first(adv, 2)
    a = addr_of(adv)
    rep = c.ask(3, cid, opt(2, sid), ELAPSED, oro(23, 59), ia_na(iaid, [a] if a else []))
    return sid, addr_of(rep)


# The order fixes each scenario's client DUID: append, do not reorder.
SCENARIOS = [
    "solicit", "solicit-no-oro", "solicit-oro-23", "rapid", "two-ia-na", "hold", "two-ia-na-request", "no-ia",
    "hint-in-pool", "hint-off-pool", "hint-off-link", "solicit-with-server-id", "solicit-no-client-id",
    "request-wrong-server-id", "request-no-server-id", "request-unknown", "renew-unknown",
    "renew-wrong-server-id", "rebind-unknown", "release-unknown", "decline", "confirm-unknown", "info-request",
    "info-request-with-ia", "uefi-pxe", "ia-pd", "unicast-request",
]


def run(c, name):
    c.label, c.n = name, 0
    print(f"\n=== {name}")
    cid = opt(1, duid_ll(20 + SCENARIOS.index(name)))  # one client per scenario
    if name == "solicit":  # also: the four-message exchange, Renew, Rebind, Confirm, Release
        sid, a = bind(c, 1)
        c.ask(5, opt(1, duid_ll(1)), opt(2, sid), ELAPSED, oro(23, 59), ia_na(1, [a]))
        c.ask(6, opt(1, duid_ll(1)), ELAPSED, oro(23, 59), ia_na(1, [a]))
        c.ask(4, opt(1, duid_ll(1)), ELAPSED, ia_na(1, [a]))
        c.ask(4, opt(1, duid_ll(1)), ELAPSED, ia_na(1, ["2001:db8::1"]))
        c.ask(8, opt(1, duid_ll(1)), opt(2, sid), ELAPSED, ia_na(1, [a]))
    elif name == "solicit-no-oro":
        c.ask(1, cid, ELAPSED, ia_na(1))
    elif name == "solicit-oro-23":
        c.ask(1, cid, ELAPSED, oro(23), ia_na(1))
    elif name == "rapid":
        c.ask(1, cid, ELAPSED, opt(14), oro(23, 59), ia_na(1))
    elif name == "two-ia-na":
        c.ask(1, cid, ELAPSED, oro(23, 59), ia_na(1), ia_na(2))
    elif name == "hold":  # binds one address and keeps it
        bind(c, 6)
    elif name == "two-ia-na-request":
        adv = c.ask(1, cid, ELAPSED, oro(23, 59), ia_na(1), ia_na(2))
        addrs = [socket.inet_ntop(socket.AF_INET6, d[12 + 4:12 + 20]) if len(d) > 16 and d[12:14] == b"\0\5"
                 else None for _, opts in adv for code, d in opts if code == 3]
        ias = [ia_na(i + 1, [a] if a else []) for i, a in enumerate(addrs or [None, None])]
        c.ask(3, cid, opt(2, first(adv, 2)), ELAPSED, oro(23, 59), *ias)
    elif name == "no-ia":
        c.ask(1, cid, ELAPSED, oro(23, 59))
    elif name == "hint-in-pool":
        c.ask(1, cid, ELAPSED, ia_na(1, ["fd00:6b::1f0"]))
    elif name == "hint-off-pool":
        c.ask(1, cid, ELAPSED, ia_na(1, ["fd00:6b::9999"]))
    elif name == "hint-off-link":
        c.ask(1, cid, ELAPSED, ia_na(1, ["2001:db8::1"]))
    elif name == "solicit-with-server-id":
        c.ask(1, cid, opt(2, duid_ll(250)), ELAPSED, ia_na(1))
    elif name == "solicit-no-client-id":
        c.ask(1, ELAPSED, ia_na(1))
    elif name == "request-wrong-server-id":
        c.ask(3, cid, opt(2, duid_ll(250)), ELAPSED, ia_na(1, ["fd00:6b::150"]))
    elif name == "request-no-server-id":
        c.ask(3, cid, ELAPSED, ia_na(1, ["fd00:6b::150"]))
    elif name == "request-unknown":  # right server id, never solicited, address free in the pool
        sid = first(c.ask(1, opt(1, duid_ll(251)), ELAPSED, ia_na(1)), 2)
        c.ask(3, cid, opt(2, sid), ELAPSED, oro(23, 59), ia_na(1, ["fd00:6b::160"]))
    elif name == "renew-unknown":
        sid = first(c.ask(1, opt(1, duid_ll(252)), ELAPSED, ia_na(1)), 2)
        c.ask(5, cid, opt(2, sid), ELAPSED, oro(23, 59), ia_na(1, ["fd00:6b::170"]))
        c.ask(5, cid, opt(2, sid), ELAPSED, oro(23, 59), ia_na(1, ["2001:db8::1"]))
    elif name == "renew-wrong-server-id":
        sid, a = bind(c, 3)
        c.ask(5, opt(1, duid_ll(3)), opt(2, duid_ll(250)), ELAPSED, ia_na(1, [a]))
    elif name == "rebind-unknown":
        c.ask(6, cid, ELAPSED, oro(23, 59), ia_na(1, ["fd00:6b::180"]))
        c.ask(6, cid, ELAPSED, oro(23, 59), ia_na(1, ["2001:db8::1"]))
    elif name == "release-unknown":
        sid = first(c.ask(1, opt(1, duid_ll(253)), ELAPSED, ia_na(1)), 2)
        c.ask(8, cid, opt(2, sid), ELAPSED, ia_na(1, ["fd00:6b::190"]))
    elif name == "decline":
        sid, a = bind(c, 4)
        c.ask(9, opt(1, duid_ll(4)), opt(2, sid), ELAPSED, ia_na(1, [a]))
        c.ask(9, opt(1, duid_ll(4)), opt(2, sid), ELAPSED, ia_na(1, ["fd00:6b::1a0"]))
    elif name == "confirm-unknown":
        c.ask(4, cid, ELAPSED, ia_na(1, ["fd00:6b::1b0"]))
    elif name == "info-request":
        c.ask(11, cid, ELAPSED, oro(23, 59))
        c.ask(11, ELAPSED, oro(23, 59))  # no client id: allowed (RFC 8415 18.2.6)
    elif name == "info-request-with-ia":
        c.ask(11, cid, ELAPSED, oro(23, 59), ia_na(1))
    elif name == "uefi-pxe":  # what OVMF's PXE sends (EDK2 PxeBcDhcp6.c): ORO 59, 60, 23, 24; 61, 62, 16
        vc = b"PXEClient:Arch:00007:UNDI:003016"
        c.ask(1, cid, ELAPSED, oro(59, 60, 23, 24), ia_na(1), opt(61, b"\x00\x07"),
              opt(62, b"\x01\x03\x10"), opt(16, struct.pack("!IH", 343, len(vc)) + vc))
    elif name == "ia-pd":
        c.ask(1, cid, ELAPSED, opt(25, struct.pack("!III", 1, 0, 0)))
    elif name == "unicast-request":
        sid, a = bind(c, 5)
        c.ask(5, opt(1, duid_ll(5)), opt(2, sid), ELAPSED, ia_na(1, [a]), dst="fd00:6b::1")
    else:
        sys.exit(f"unknown scenario {name}")


def decode(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-n", "-T", "fields", "-e", "frame.time_relative", "-e", "ipv6.src",
                          "-e", "ipv6.dst", "-e", "udp.payload"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        t, src, dst, hx = line.split("\t")
        b = bytes.fromhex(hx.replace(":", ""))
        print(f"{float(t):7.3f} {MSG.get(b[0], b[0])} xid={b[1:4].hex()} {src} -> {dst} ({len(b)} bytes)")
        print("\n".join(show(parse_opts(b[4:]))))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--decode":
        decode(sys.argv[2])
    elif len(sys.argv) >= 4:
        cl = Client(sys.argv[1], sys.argv[2])
        for sc in sys.argv[3:]:
            run(cl, sc)
    else:
        sys.exit("usage: dhcp6_probe.py IFACE OUTDIR SCENARIO... | --decode PCAP\nscenarios: " + " ".join(SCENARIOS))
