# shellcheck shell=bash disable=SC2034  # STEP_*, BEST_*: read by the caller
# The machinery of scripts/bench-dhcp6 (its header describes the method):
# two network namespaces joined by a veth (server fd00:6b::1/64 on b6s0,
# the load generator fd00:6b::2/64 on b6c0, both also with their link-local
# address: servers answer from it, rapid6 sends from it, perfdhcp -6 sends
# from fd00:6b::2), one server per function
# (start_kea, start_pxed: one more server is one more start_* function and
# a line in start_server), perfdhcp -6 for 4-way exchanges and
# tests/bench/rapid6.c for 2-way ones, and the bounded rate search.
#
# The caller sets: BENCH, WORK, BUILD_DIR, SERVER_CPU, CLIENT_CPU,
# START_TIMEOUT, STEP_SECONDS, MAX_STEPS, START_RATE, MAX_RATE, CLIENTS,
# POOL_FIRST, POOL_LAST; optional KEA_THREADS.

SRV=pxb6-srv
CLI=pxb6-cli
SERVER_PID=

bench6_cleanup() {
  stop_server
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  rm -rf "$WORK"
}

bench6_net_up() {
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  ip netns add "$SRV"
  ip netns add "$CLI"
  local ns
  for ns in "$SRV" "$CLI"; do
    # No duplicate address detection: the link-local addresses are usable
    # at once (a tentative one cannot be bound), and nobody else is on the veth.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$ns" link set lo up
  done
  ip link add b6c0 netns "$CLI" type veth peer name b6s0 netns "$SRV"
  ip -n "$SRV" addr add fd00:6b::1/64 dev b6s0 nodad
  ip -n "$CLI" addr add fd00:6b::2/64 dev b6c0 nodad
  ip -n "$SRV" link set b6s0 up
  ip -n "$CLI" link set b6c0 up
  # Sending to ff02::1:2 needs the link-local address and the multicast
  # route, which come a moment after the link (else ENETUNREACH).
  local _
  for _ in $(seq 50); do
    ip -n "$CLI" -6 route show table local dev b6c0 | grep -q '^multicast ff00::/8' &&
      ip -n "$CLI" -6 addr show dev b6c0 scope link | grep -q inet6 && break
    sleep 0.1
  done
  cc -shared -fPIC -O2 -o "$WORK/rcvbuf_preload.so" tests/bench/rcvbuf_preload.c -ldl
  cc -O2 -o "$WORK/rapid6" tests/bench/rapid6.c
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  local _
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

port547_bound() { nsenter --net=/run/netns/$SRV ss -Hlun 'sport = :547' | grep -q .; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# Kea: memfile with persist (every lease written to its CSV file as it is
# granted), multi-threading as scripts/bench-dhcp runs kea-dhcp4 (KEA_THREADS
# threads, its packet queue of 64; KEA_THREADS=0: single-threaded), rapid
# commit allowed on the subnet (a Solicit without the option still gets the
# 4-way exchange). data-directory keeps its server DUID file in the run
# directory, not in /var/lib/kea.
start_kea() {
  local run=$1 mt='"enable-multi-threading": false'
  [ "${KEA_THREADS:-2}" = 0 ] ||
    mt='"enable-multi-threading": true, "thread-pool-size": '"${KEA_THREADS:-2}"', "packet-queue-size": 64'
  cat >"$run/kea6.json" <<EOF
{ "Dhcp6": {
    "interfaces-config": { "interfaces": ["b6s0"] },
    "data-directory": "$run",
    "lease-database": { "type": "memfile", "persist": true, "name": "$run/leases6.csv", "lfc-interval": 0 },
    "multi-threading": { $mt },
    "preferred-lifetime": 3000, "valid-lifetime": 3600,
    "option-data": [ { "name": "dns-servers", "data": "fd00:6b::1" },
                     { "name": "bootfile-url", "data": "tftp://[fd00:6b::1]/grubx64.efi" } ],
    "subnet6": [ { "id": 1, "subnet": "fd00:6b::/64", "interface": "b6s0", "rapid-commit": true,
                   "pools": [ { "pool": "$POOL_FIRST-$POOL_LAST" } ] } ],
    "loggers": [ { "name": "kea-dhcp6", "output_options": [ { "output": "$run/server.log" } ], "severity": "WARN" } ]
} }
EOF
  KEA_PIDFILE_DIR=$run KEA_LOCKFILE_DIR=$run taskset -c "$SERVER_CPU" nsenter --net=/run/netns/$SRV \
    kea-dhcp6 -c "$run/kea6.json" >"$run/server.out" 2>&1 &
  SERVER_PID=$!
}
kea_ready() { port547_bound; }

# pxed: its DHCPv6 server on b6s0 with the same prefix, range, lifetimes
# and DNS server (no boot file: perfdhcp sends no client architecture);
# durable SQLite lease store, XDP off (the daemon path, as Kea's).
start_pxed() {
  local run=$1
  cat >"$run/pxed.toml" <<EOF
[server]
interfaces = ["b6s0"]
lease-db = "$run/leases.db"
control-socket = "$run/pxed.sock"
xdp = "off"
http-port = 0

[[subnet6]]
prefix = "fd00:6b::/64"
range = ["$POOL_FIRST", "$POOL_LAST"]
dns = ["fd00:6b::1"]
preferred-lifetime = 3000
valid-lifetime = 3600
rapid-commit = true
EOF
  taskset -c "$SERVER_CPU" nsenter --net=/run/netns/$SRV "$BUILD_DIR/userspace/pxed" \
    --config "$run/pxed.toml" --log-level info >"$run/server.log" 2>&1 &
  SERVER_PID=$!
}
pxed_ready() { port547_bound && grep -q ' ready' "$WORK/run/server.log"; }

# start_server SERVER: a fresh run directory (empty lease store), the server
# pinned on SERVER_CPU; returns once it serves port 547, 1 when it did not.
start_server() {
  local srv=$1 run="$WORK/run" _
  rm -rf "$run"
  mkdir -p "$run"
  "start_$srv" "$run"
  for _ in $(seq $((START_TIMEOUT * 10))); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$run"/server.* >&2
      echo "$BENCH: $srv exited at start" >&2
      SERVER_PID=
      return 1
    fi
    if "${srv}_ready"; then sleep 0.5; return 0; fi
    sleep 0.1
  done
  echo "$BENCH: $srv did not serve within ${START_TIMEOUT}s" >&2
  stop_server
  return 1
}

# Waits (at most 60 s) until the server has used no CPU for half a second.
wait_idle() {
  local a b _
  for _ in $(seq 120); do
    a=$(cpu_ticks)
    sleep 0.5
    b=$(cpu_ticks)
    [ "$a" != "$b" ] || return 0
  done
}

# step MODE RATE: one bounded load step (4way: perfdhcp -6, SARR; 2way:
# rapid6), sets STEP_SENT (Solicits), STEP_DONE (completed exchanges),
# STEP_DROP (%), STEP_RATE (completed per second), STEP_AVG / STEP_MAX
# (ms; 4way: Solicit-Advertise plus Request-Reply averages).
step() {
  local mode=$1 rate=$2 out="$WORK/step.txt"
  if [ "$mode" = 4way ]; then
    LD_PRELOAD="$WORK/rcvbuf_preload.so" taskset -c "$CLIENT_CPU" nsenter --net=/run/netns/$CLI \
      timeout $((STEP_SECONDS + 30)) perfdhcp -6 -l b6c0 -r "$rate" -p "$STEP_SECONDS" -R "$CLIENTS" \
      -W 1000000 >"$out" 2>&1 || true
  else
    taskset -c "$CLIENT_CPU" nsenter --net=/run/netns/$CLI \
      timeout $((STEP_SECONDS + 30)) "$WORK/rapid6" b6c0 "$rate" "$STEP_SECONDS" "$CLIENTS" >"$out" 2>&1 || true
  fi
  read -r STEP_SENT STEP_DONE STEP_DROP STEP_RATE STEP_AVG STEP_MAX < <(awk -v secs="$STEP_SECONDS" '
    /Statistics for: SOLICIT-ADVERTISE/ { x = "sa" }
    /Statistics for: REQUEST-REPLY/ { x = "rr" }
    /Statistics for: SOLICIT-REPLY/ { x = "sr" }
    /^sent packets:/ { sent[x] = $3 }
    /^received packets:/ { recv[x] = $3 }
    /^avg delay:/ { avg[x] = $3 }
    /^max delay:/ { max[x] = $3 }
    END {
      if ("sr" in sent) { s = sent["sr"]; d = recv["sr"]; a = avg["sr"]; m = max["sr"] }
      else { s = sent["sa"]; d = recv["rr"]; a = avg["sa"] + avg["rr"]; m = (max["sa"] > max["rr"] ? max["sa"] : max["rr"]) }
      printf "%d %d %.2f %.0f %.3f %.1f\n", s, d, (s > 0 ? 100 * (1 - d / s) : 100), d / secs, a, m
    }' "$out")
  # rapid6's Replies after the drop time, Replies without an address; perfdhcp's orphans.
  STEP_NOTE=$(awk '/^late packets:/ { l = $3 } /^rejected leases:/ { j += $3 } /^orphans:/ { o += $2 }
    END { if (l + j + o > 0) printf "(late %d, rejected %d, orphans %d)", l, j, o }' "$out")
  if [ "$STEP_SENT" -eq 0 ]; then
    echo "$BENCH: the load generator sent nothing; its output:" >&2
    cat "$out" >&2
    return 1
  fi
}

# search SERVER MODE: starts the server with an empty store, warms it up (one
# second at 200/s, not counted), then looks for the highest offered rate
# whose exchanges lose at most 1 % and complete at >= 90 % of the offered
# rate: doubling from START_RATE until a step fails, then bisection to
# within 10 %, at most MAX_STEPS steps. Prints a line per step; sets
# BEST_RATE BEST_DONE BEST_DROP BEST_AVG BEST_MAX (BEST_RATE "-": no start).
search() {
  local srv=$1 mode=$2 rate=$START_RATE lo=0 hi=0 s ok saved
  BEST_RATE=- BEST_DONE=- BEST_DROP=- BEST_AVG=- BEST_MAX=-
  start_server "$srv" || return 0
  BEST_RATE=0 BEST_DONE=0
  saved=$STEP_SECONDS
  STEP_SECONDS=1
  step "$mode" 200 || true
  STEP_SECONDS=$saved
  for s in $(seq "$MAX_STEPS"); do
    wait_idle
    step "$mode" "$rate" || break
    ok=0
    awk -v d="$STEP_DROP" -v n="$STEP_DONE" -v t="$STEP_SECONDS" -v r="$rate" \
      'BEGIN { exit !(d <= 1.0 && n / t >= 0.9 * r) }' && ok=1
    printf '  %-5s %s step %2d  offered %6d/s  Solicits %7d  completed %7d (%6d/s)  drops %6.2f%%  avg %s ms  max %s ms  %s %s\n' \
      "$srv" "$mode" "$s" "$rate" "$STEP_SENT" "$STEP_DONE" "$STEP_RATE" "$STEP_DROP" "$STEP_AVG" "$STEP_MAX" \
      "$([ $ok = 1 ] && echo pass || echo FAIL)" "$STEP_NOTE"
    if [ $ok = 1 ]; then
      lo=$rate
      BEST_RATE=$rate BEST_DONE=$STEP_RATE BEST_DROP=$STEP_DROP BEST_AVG=$STEP_AVG BEST_MAX=$STEP_MAX
    else
      hi=$rate
    fi
    if [ $hi -eq 0 ]; then
      rate=$((rate * 2))
      [ $rate -le "$MAX_RATE" ] || break
    elif [ $lo -eq 0 ]; then
      rate=$((hi / 2))
      [ "$rate" -ge 50 ] || break
    else
      [ $((hi - lo)) -gt $((lo / 10)) ] || break
      rate=$(((lo + hi) / 2))
    fi
  done
  stop_server
}
