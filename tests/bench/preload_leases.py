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


def main():
    kind, path, n, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    base = int(ipaddress.IPv4Address(first))
    now = int(time.time())
    start, expires = now - 600, now + 86400

    def mac(i):
        return bytes([0x0A, 0xBB, 0xCC, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])

    if kind == "pxed":
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(PXED_SCHEMA)
        db.execute("INSERT OR REPLACE INTO pxed_meta (key, value) VALUES ('schema_version', '1')")
        # client identity without option 61: "hw:" + htype + chaddr (dhcp/engine.cpp)
        db.executemany(
            "INSERT INTO leases (ip, mac, client, hostname, guid, start, expires, state, is_static) "
            "VALUES (?, ?, ?, '', NULL, ?, ?, 1, 0)",
            ((base + i, mac(i), b"hw:\x01" + mac(i), start, expires) for i in range(n)))
        db.commit()
        db.close()
    elif kind == "kea":
        with open(path, "w") as f:
            f.write("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,"
                    "fqdn_fwd,fqdn_rev,hostname,state,user_context\n")
            for i in range(n):
                f.write(f"{ipaddress.IPv4Address(base + i)},{mac(i).hex(':')},,86400,{expires},1,0,0,,0,\n")
    elif kind == "dnsmasq":
        with open(path, "w") as f:
            for i in range(n):
                f.write(f"{expires} {mac(i).hex(':')} {ipaddress.IPv4Address(base + i)} * *\n")
    else:
        sys.exit(f"preload_leases.py: unknown store {kind}")


if __name__ == "__main__":
    main()
