#!/usr/bin/python3
"""DHCPv6 messages (UDP payloads in hex, one per line on stdin, as
`tshark -T fields -e udp.payload` prints them) as one line of text each:

  solicit xid=3d688a 1=duid-llt:52:54:00:e6:00:02 8=0 3=iaid:f750f6fb,t1:ffffffff,t2:ffffffff
      6=59,60,23,16 62=010300 61=7 16=343:PXEClient:Arch:00007:UNDI:003000

(on one line). Options are "code=value": the ones the boot checks and the
fixtures' README talk about are decoded (client and server id, elapsed time,
IA_NA with its addresses and status, ORO, preference, status, vendor class,
option 59/60 text, option 61 architectures), every other one is hex. Used by
tests/e2e/pxe_boot_ipv6.sh to check what firmware and server said without
depending on what tshark 4.0 decodes (it shows neither option 59's URL nor
option 61's value), and to describe tests/fixtures/dhcp6/ovmf_*.hex.
A line that is not hex or too short for a header prints "malformed".
"""
import ipaddress
import sys

TYPES = {1: "solicit", 2: "advertise", 3: "request", 4: "confirm", 5: "renew", 6: "rebind",
         7: "reply", 8: "release", 9: "decline", 10: "reconfigure", 11: "information-request",
         12: "relay-forw", 13: "relay-repl"}


def duid(b):
    kind = int.from_bytes(b[:2], "big")
    if kind == 1 and len(b) >= 8:  # type, hw type, time, link-layer address
        return "duid-llt:" + ":".join(f"{x:02x}" for x in b[8:])
    if kind == 3 and len(b) >= 4:
        return "duid-ll:" + ":".join(f"{x:02x}" for x in b[4:])
    return "duid:" + b.hex()


def options(b):
    """(code, value) pairs of an option area; a truncated tail is ("trunc", hex)."""
    out, i = [], 0
    while i + 4 <= len(b):
        code, n = int.from_bytes(b[i:i + 2], "big"), int.from_bytes(b[i + 2:i + 4], "big")
        if i + 4 + n > len(b):
            return out + [("trunc", b[i:].hex())]
        out.append((code, b[i + 4:i + 4 + n]))
        i += 4 + n
    if i != len(b):
        out.append(("trunc", b[i:].hex()))
    return out


def value(code, v):
    if code in (1, 2):
        return duid(v)
    if code == 3 and len(v) >= 12:  # IA_NA: IAID, T1, T2, then options
        inner = " ".join(f"{c}={value(c, x)}" for c, x in options(v[12:]))
        return f"iaid:{v[:4].hex()},t1:{v[4:8].hex()},t2:{v[8:12].hex()}" + (f"[{inner}]" if inner else "")
    if code == 5 and len(v) >= 24:  # IA address: address, preferred, valid lifetime, options
        inner = " ".join(f"{c}={value(c, x)}" for c, x in options(v[24:]))
        pref, valid = int.from_bytes(v[16:20], "big"), int.from_bytes(v[20:24], "big")
        return f"{ipaddress.IPv6Address(bytes(v[:16]))},pref:{pref},valid:{valid}" + (f"[{inner}]" if inner else "")
    if code == 6:
        return ",".join(str(int.from_bytes(v[i:i + 2], "big")) for i in range(0, len(v) - 1, 2))
    if code == "trunc":  # options() gives a cut tail as hex already
        return v
    if code in (7, 8) and v:
        return str(int.from_bytes(v, "big"))
    if code == 13 and len(v) >= 2:
        return f"{int.from_bytes(v[:2], 'big')}:{v[2:].decode('ascii', 'replace')}"
    if code == 16 and len(v) >= 4:  # enterprise number, then 2-byte-length entries
        parts, i = [str(int.from_bytes(v[:4], "big"))], 4
        while i + 2 <= len(v):
            n = int.from_bytes(v[i:i + 2], "big")
            parts.append(v[i + 2:i + 2 + n].decode("ascii", "replace"))
            i += 2 + n
        return ":".join(parts) + ("" if i == len(v) else ":<bad length>")
    if code in (59, 60):
        return v.decode("ascii", "replace")
    if code == 61:
        return ",".join(str(int.from_bytes(v[i:i + 2], "big")) for i in range(0, len(v) - 1, 2))
    return v.hex()


def describe(hexline):
    try:
        b = bytes.fromhex(hexline.replace(":", "").strip())
    except ValueError:
        return "malformed"
    if len(b) < 4:
        return "malformed"
    name = TYPES.get(b[0], f"type{b[0]}")
    if b[0] in (12, 13):  # relay: hop count, link and peer address, then options
        return f"{name} " + " ".join(f"{c}={value(c, x)}" for c, x in options(b[34:]))
    return f"{name} xid={b[1:4].hex()} " + " ".join(f"{c}={value(c, x)}" for c, x in options(b[4:]))


if __name__ == "__main__":
    for line in sys.stdin:
        if line.strip():
            print(describe(line))
