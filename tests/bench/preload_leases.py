#!/usr/bin/env python3
"""Writes N existing, bound leases for the DHCP benchmarks, in the store of
one server, before that server starts:

  preload_leases.py pxed    FILE N FIRST_IP   SQLite database in pxed's schema
  preload_leases.py kea     FILE N FIRST_IP   Kea 2.2 memfile CSV (lease4)
  preload_leases.py dnsmasq FILE N FIRST_IP   dnsmasq leasefile

Lease i has the MAC 0a:bb:cc:ii:ii:ii (locally administered, distinct from
perfdhcp's clients) and the address FIRST_IP + i; every lease expires in a
day. The pxed schema is the one userspace/lease/sqlite/sqlite_store.cpp
creates (schema version 1); pxed opens such a file as its own.

The pool-occupancy benchmark (scripts/bench-dhcp-occupancy) uses a spread layout:

  preload_leases.py KIND FILE --spread FIRST_IP POOL_SIZE PERCENT [--macs-out MACS]

Address i of the pool (FIRST_IP + i, i < POOL_SIZE) holds a lease iff
floor((i + 1) * PERCENT / 100) > floor(i * PERCENT / 100): the leases are
interleaved evenly through the pool, floor(POOL_SIZE * PERCENT / 100) of
them. Lease number k (in address order) has the MAC 0a:bb:cc:kk:kk:kk and
the client id 01 + MAC, as perfdhcp sends for a MAC of its -M list; MACS,
if given, receives the leases' MACs, one per line (perfdhcp -M format).
"""
import ipaddress
import sqlite3
import sys
import time

PXED_SCHEMA = """
CREATE TABLE IF NOT EXISTS pxed_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    ip INTEGER PRIMARY KEY, mac BLOB NOT NULL, client BLOB NOT NULL,
    hostname TEXT NOT NULL DEFAULT '', guid BLOB, start INTEGER NOT NULL,
    expires INTEGER NOT NULL, state INTEGER NOT NULL, is_static INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS reservations (
    mac BLOB PRIMARY KEY, ip INTEGER NOT NULL UNIQUE, hostname TEXT NOT NULL DEFAULT '', lease_time INTEGER);
"""


def mac(i):
    return bytes([0x0A, 0xBB, 0xCC, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])


def write(kind, path, leases, with_client_id):
    """leases: (ip as int, MAC bytes) pairs, each bound for a day."""
    now = int(time.time())
    start, expires = now - 600, now + 86400
    if kind == "pxed":
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(PXED_SCHEMA)
        db.execute("INSERT OR REPLACE INTO pxed_meta (key, value) VALUES ('schema_version', '1')")
        # client identity (dhcp/engine.cpp, client_key): "id:" + option 61, or
        # without it "hw:" + htype + chaddr
        def client(m):
            return b"id:\x01" + m if with_client_id else b"hw:\x01" + m
        db.executemany(
            "INSERT INTO leases (ip, mac, client, hostname, guid, start, expires, state, is_static) "
            "VALUES (?, ?, ?, '', NULL, ?, ?, 1, 0)",
            ((ip, m, client(m), start, expires) for ip, m in leases))
        db.commit()
        db.close()
    elif kind == "kea":
        with open(path, "w") as f:
            f.write("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,"
                    "fqdn_fwd,fqdn_rev,hostname,state,user_context\n")
            for ip, m in leases:
                cid = "01:" + m.hex(":") if with_client_id else ""
                f.write(f"{ipaddress.IPv4Address(ip)},{m.hex(':')},{cid},86400,{expires},1,0,0,,0,\n")
    elif kind == "dnsmasq":
        with open(path, "w") as f:
            for ip, m in leases:
                cid = "01:" + m.hex(":") if with_client_id else "*"
                f.write(f"{expires} {m.hex(':')} {ipaddress.IPv4Address(ip)} * {cid}\n")
    else:
        sys.exit(f"preload_leases.py: unknown store {kind}")


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3 and sys.argv[3] == "--spread":
        first, size, pct = int(ipaddress.IPv4Address(sys.argv[4])), int(sys.argv[5]), int(sys.argv[6])
        ips = [first + i for i in range(size) if (i + 1) * pct // 100 > i * pct // 100]
        leases = [(ip, mac(k)) for k, ip in enumerate(ips)]
        if len(sys.argv) > 8 and sys.argv[7] == "--macs-out":
            with open(sys.argv[8], "w") as f:
                f.writelines(m.hex(":") + "\n" for _, m in leases)
        write(kind, path, leases, True)
    else:
        n, base = int(sys.argv[3]), int(ipaddress.IPv4Address(sys.argv[4]))
        write(kind, path, [(base + i, mac(i)) for i in range(n)], False)


if __name__ == "__main__":
    main()
