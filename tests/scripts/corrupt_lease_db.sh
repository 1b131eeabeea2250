#!/bin/sh
# A damaged lease database stops pxed with a message naming it, and pxed
# leaves the file byte for byte as it was. Usage: corrupt_lease_db.sh PXED
set -u
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
head -c 8192 /dev/urandom >"$d/leases.db"
cp "$d/leases.db" "$d/orig"
cat >"$d/pxed.toml" <<TOML
[server]
interfaces = ["lo"]
lease-db = "$d/leases.db"
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.10", "192.0.2.20"]
TOML
out=$("$1" --config "$d/pxed.toml" 2>&1)
rc=$?
echo "$out"
fail=0
[ "$rc" -eq 1 ] || { echo "FAIL: exit status $rc, want 1"; fail=1; }
cmp -s "$d/leases.db" "$d/orig" || { echo "FAIL: pxed changed the damaged file"; fail=1; }
echo "$out" | grep -q "leases.db: is not a readable SQLite database" || { echo "FAIL: no message naming the file"; fail=1; }
echo "$out" | grep -q 'does not replace it' || { echo "FAIL: no word that the file is kept"; fail=1; }
exit $fail
