# shellcheck shell=bash disable=SC2034  # STEP_*, SERVER_*: read by scripts/lib/bench-dhcp.sh
# The machinery of scripts/bench-dhcp-pg (its header describes the method):
# three namespaces on a bridge, one throw-away PostgreSQL cluster with the
# template databases, the servers (kea-pg, pxed-pg, pxed-pg2, pxed-sqlite)
# started from a fresh database, perfdhcp from one or two relay addresses.
# It overrides scripts/lib/bench-dhcp.sh's start_server, stop_server,
# cpu_ticks, perf and server_notes (two server processes, our own
# namespaces) and keeps its search, wait_idle and parse_perf; source it after
# that file and scripts/lib/pg.sh.
#
# The caller sets what scripts/lib/bench-dhcp.sh needs and PXED, PXECTL,
# KEA_THREADS, PG_CPU, BENCH_NICE (the nice value of every server, PostgreSQL
# and perfdhcp alike).

# Our own namespaces (not bench-dhcp's): node A (and Kea) in pxpg-a on pga1
# 10.64.0.1, node B in pxpg-b on pgb1 10.64.0.3, perfdhcp in pxpg-cli on the
# bridge bd0 (10.64.0.2, and 10.64.0.4 for the second perfdhcp). Interface
# names unique on the host: pinned maps live under /sys/fs/bpf/pxed/<ifname>.
SRV=pxpg-a
SRVB=pxpg-b
CLI=pxpg-cli
SERVER_PIDS=()

# (overrides of scripts/lib/bench-dhcp.sh below: two server processes)
stop_server() {
  local p _
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  SERVER_PIDS=()
  SERVER_PID=
}
cpu_ticks() {
  local p t=0
  for p in "${SERVER_PIDS[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
  echo $t
}
bench_cleanup() {
  stop_server
  local ns
  for ns in "$SRV" "$SRVB" "$CLI"; do ip netns del "$ns" 2>/dev/null || true; done
  [ -z "${PG_SOCKDIR:-}" ] || pg_down "$WORK/pg" || true
  rm -rf "$WORK"
}

net_up() {
  local ns
  for ns in "$SRV" "$SRVB" "$CLI"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
  ip -n "$CLI" link add bd0 type bridge
  ip link add pca netns "$CLI" type veth peer name pga1 netns "$SRV"
  ip link add pcb netns "$CLI" type veth peer name pgb1 netns "$SRVB"
  ip -n "$CLI" link set pca master bd0
  ip -n "$CLI" link set pcb master bd0
  ip -n "$CLI" addr add "10.64.0.2/$NET_PREFIX" dev bd0
  ip -n "$CLI" addr add "10.64.0.4/$NET_PREFIX" dev bd0
  ip -n "$SRV" addr add "10.64.0.1/$NET_PREFIX" dev pga1
  ip -n "$SRVB" addr add "10.64.0.3/$NET_PREFIX" dev pgb1
  for ns in "$SRV" "$SRVB" "$CLI"; do ip -n "$ns" link set lo up; done
  ip -n "$CLI" link set bd0 up
  ip -n "$CLI" link set pca up
  ip -n "$CLI" link set pcb up
  ip -n "$SRV" link set pga1 up
  ip -n "$SRVB" link set pgb1 up
  cc -shared -fPIC -O2 -o "$WORK/rcvbuf_preload.so" tests/bench/rcvbuf_preload.c -ldl
}

# PostgreSQL: one cluster; databases pxed_tpl and kea_tpl hold the empty
# schemas, every server start gets a fresh copy (pxed, kea).
db_up() {
  pg_up "$WORK/pg" >/dev/null
  local p
  for p in $(head -1 "$WORK/pg/data/postmaster.pid") $(pgrep -P "$(head -1 "$WORK/pg/data/postmaster.pid")"); do
    taskset -pc "$PG_CPU" "$p" >/dev/null
    renice -n "$BENCH_NICE" -p "$p" >/dev/null  # its backends, forked later, inherit both
  done
  pg_createdb kea_tpl
  kea-admin db-init pgsql -h "$PG_SOCKDIR" -u postgres -n kea_tpl >"$WORK/kea-admin.log" 2>&1 ||
    { cat "$WORK/kea-admin.log" >&2; exit 1; }
  pg_createdb pxed_tpl
  mkdir -p "$WORK/run"
  pxed_conf "$WORK/init.toml" pga1 "$(pg_uri pxed_tpl)" init off
  "$PXED" --config "$WORK/init.toml" --db-init >/dev/null
}
db_fresh() {
  pg_psql postgres "DROP DATABASE IF EXISTS $1" >/dev/null
  pg_psql postgres "CREATE DATABASE $1 TEMPLATE ${1}_tpl" >/dev/null
  pg_psql postgres "CHECKPOINT" >/dev/null  # the copy's writes out of the way
}

# pxed_conf FILE IFACE LEASE_DB NODE XDP
pxed_conf() {
  cat >"$1" <<EOF
[server]
interfaces = ["$2"]
lease-db = "$3"
node-name = "node-$4"
control-socket = "$WORK/run/$4.sock"
xdp = "$5"
http-port = 0

[[subnet]]
cidr = "$NET_CIDR"
range = ["$POOL_FIRST", "$POOL_LAST"]
router = "10.64.0.1"
lease-time = 3600
EOF
}

# pxed_start NS IFACE LEASE_DB NODE XDP: one node, pinned; its pid appended.
pxed_start() {
  pxed_conf "$WORK/run/$4.toml" "$2" "$3" "$4" "$5"
  nice -n "$BENCH_NICE" taskset -c "$SERVER_CPU" nsenter --net="/run/netns/$1" "$PXED" --config "$WORK/run/$4.toml" --log-level info \
    >"$WORK/run/$4.log" 2>&1 &
  SERVER_PIDS+=($!)
}

# start_server CONFIG: the override of the library's: fresh database, the
# server(s) started; returns once each serves port 67 (pxed: logs "ready").
start_server() {
  local cfg=$1 run="$WORK/run" p _ logs=()
  rm -rf "$run"
  mkdir -p "$run"
  case "$cfg" in
    kea-pg)
      db_fresh kea
      cat >"$run/kea.json" <<EOF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": ["pga1"], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "postgresql", "name": "kea", "host": "$PG_SOCKDIR", "user": "postgres" },
    "multi-threading": { "enable-multi-threading": true, "thread-pool-size": $KEA_THREADS, "packet-queue-size": 64 },
    "valid-lifetime": 3600,
    "subnet4": [ { "id": 1, "subnet": "$NET_CIDR", "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ],
                   "option-data": [ { "name": "routers", "data": "10.64.0.1" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$run/kea.log" } ], "severity": "WARN" } ]
} }
EOF
      KEA_PIDFILE_DIR=$run KEA_LOCKFILE_DIR=$run nice -n "$BENCH_NICE" taskset -c "$SERVER_CPU" nsenter --net="/run/netns/$SRV" \
        kea-dhcp4 -c "$run/kea.json" >"$run/kea.out" 2>&1 &
      SERVER_PIDS+=($!)
      ;;
    pxed-pg) db_fresh pxed; pxed_start "$SRV" pga1 "$(pg_uri pxed)" a off; logs=(a) ;;
    pxed-pg2)
      [ -n "${KEEP_DB:-}" ] || db_fresh pxed
      pxed_start "$SRV" pga1 "$(pg_uri pxed)" a off
      pxed_start "$SRVB" pgb1 "$(pg_uri pxed)" b "${XDP_B:-off}"
      logs=(a b)
      ;;
    pxed-sqlite) pxed_start "$SRV" pga1 "$run/leases.db" a off; logs=(a) ;;
  esac
  SERVER_PID=${SERVER_PIDS[0]}
  SERVER_KIND=$cfg
  for _ in $(seq $((START_TIMEOUT * 10))); do
    local ready=1
    for p in "${SERVER_PIDS[@]}"; do
      kill -0 "$p" 2>/dev/null || { cat "$run"/*.log "$run"/*.out 2>/dev/null >&2; echo "$BENCH: $cfg exited" >&2; exit 1; }
    done
    nsenter --net="/run/netns/$SRV" ss -Hlun 'sport = :67' | grep -q . || ready=0
    for p in "${logs[@]}"; do grep -q ' ready' "$run/$p.log" || ready=0; done
    if [ $ready = 1 ]; then sleep 0.5; return 0; fi
    sleep 0.1
  done
  echo "$BENCH: $cfg did not start within ${START_TIMEOUT}s" >&2
  stop_server
  return 1
}

# perf_to LOCAL SERVER RATE SECONDS OUT ARGS...: one perfdhcp, relay address LOCAL.
perf_to() {
  local from=$1 to=$2 rate=$3 secs=$4 out=$5
  shift 5
  LD_PRELOAD="$WORK/rcvbuf_preload.so" nice -n "$BENCH_NICE" taskset -c "$CLIENT_CPU" nsenter --net="/run/netns/$CLI" \
    timeout $((secs + 30)) perfdhcp -4 -l "$from" -r "$rate" -p "$secs" -W 1000000 "$@" "$to" >"$out" 2>&1 || true
}
perf() { local r=$1 s=$2 o=$3; shift 3; perf_to 10.64.0.2 10.64.0.1 "$r" "$s" "$o" "$@"; }

# Two nodes: half the rate to each, from its own relay address, with its
# own MAC range (node B's clients from base MAC 00:0d:...).
step_two() {
  local rate=$1 h=$(($1 / 2))
  perf_to 10.64.0.2 10.64.0.1 "$h" "$STEP_SECONDS" "$WORK/perf-a.txt" "${PERF_ARGS[@]}" &
  local pa=$!
  perf_to 10.64.0.4 10.64.0.3 "$((rate - h))" "$STEP_SECONDS" "$WORK/perf-b.txt" "${PERF_ARGS[@]}" -b mac=00:0d:01:02:03:04
  wait $pa
  local a b
  a=$(parse_perf "$WORK/perf-a.txt" "$STEP_SECONDS")
  b=$(parse_perf "$WORK/perf-b.txt" "$STEP_SECONDS")
  read -r STEP_SENT STEP_ACKS STEP_DROP STEP_DO_AVG STEP_DO_MAX STEP_RA_AVG STEP_RA_MAX STEP_ACKRATE STEP_RELEASES \
    < <(awk -v a="$a" -v b="$b" -v secs="$STEP_SECONDS" 'BEGIN {
      split(a, x, " "); split(b, y, " ")
      s = x[1] + y[1]; k = x[2] + y[2]
      printf "%d %d %.2f %.3f %s %.3f %s %.0f %d\n", s, k, (s > 0 ? 100 * (1 - k / s) : 100),
        (x[4] + y[4]) / 2, (x[5] > y[5] ? x[5] : y[5]), (x[6] + y[6]) / 2, (x[7] > y[7] ? x[7] : y[7]), k / secs, x[9] + y[9] }')
  STEP_PASSRATE=$rate
  STEP_EXTRA="(A $(echo "$a" | cut -d' ' -f2) B $(echo "$b" | cut -d' ' -f2) ACKs)"
  [ "$STEP_SENT" -gt 0 ] || { cat "$WORK/perf-a.txt" >&2; echo "$BENCH: perfdhcp sent nothing" >&2; exit 1; }
}
warmup_two() {
  perf_to 10.64.0.2 10.64.0.1 100 1 "$WORK/warmup-a.txt" "${PERF_ARGS[@]}" &
  local pa=$!  # (a bare `wait` would wait for the servers too)
  perf_to 10.64.0.4 10.64.0.3 100 1 "$WORK/warmup-b.txt" "${PERF_ARGS[@]}" -b mac=00:0d:01:02:03:04
  wait $pa
}

# PostgreSQL's CPU time (all its processes), and a step function wrapper
# that adds it per completed exchange to the step's line: the server's CPU
# cost is the DHCP server's and its database's.
pg_ticks() {
  local pm p t=0
  pm=$(head -1 "$WORK/pg/data/postmaster.pid")
  for p in "$pm" $(pgrep -P "$pm"); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo $t
}
with_pg_cpu() {
  local fn=$1 rate=$2 t0 t1
  t0=$(pg_ticks)
  "$fn" "$rate"
  t1=$(pg_ticks)
  STEP_EXTRA="$STEP_EXTRA PostgreSQL CPU $(awk -v t=$((t1 - t0)) -v a="$STEP_ACKS" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (a > 0) printf "%.1f", t * 1e6 / hz / a; else print "-" }') us/exchange"
}
pg_step_one() { with_pg_cpu step_single "$1"; }
pg_step_two() { with_pg_cpu step_two "$1"; }

# Per node after a step: NAKs, addresses lost to the other node, refused
# for lack of the store, dropped for pool exhaustion or rate limits.
server_notes() {
  case "$SERVER_KIND" in pxed-*) ;; *) return 0 ;; esac
  local n
  for n in a b; do
    [ -S "$WORK/run/$n.sock" ] || continue
    "$PXECTL" -s "$WORK/run/$n.sock" stats --json 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin); d = j["dhcp"]; db = j.get("lease_db", {})
print("%s: NAK %s lost %s store-down %s exhausted %s rate-limited %s;" % (sys.argv[1], d["sent"]["daemon"]["NAK"],
      db.get("lost_to_other_servers", "-"), d.get("store_unavailable", "-"), d["pool_exhausted"], d["rate_limited_client"]), end=" ")' "$n" || true
  done
}
