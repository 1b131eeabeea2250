# shellcheck shell=bash disable=SC2034  # BEST_*, STEP_*: read by the callers
# Shared by scripts/bench-dhcp and scripts/bench-dhcp-occupancy: two network
# namespaces joined by a veth (server 10.64.0.1 on bd1, perfdhcp 10.64.0.2 on
# bd0), the three servers started from a pristine lease store, perfdhcp runs
# and the bounded rate search (doubling, then bisection) for the highest
# offered rate at <= 1 % drops. The callers' header comments describe the
# method; this file holds the machinery.
#
# The caller sets: BENCH (name in messages), WORK, BUILD_DIR, SERVER_CPU,
# CLIENT_CPU, START_TIMEOUT, STEP_SECONDS, MAX_STEPS, START_RATE, MAX_RATE,
# NET_PREFIX (e.g. 12), NET_CIDR, NET_MASK, POOL_FIRST, POOL_LAST; optional:
# OLD_BUILD_DIR (server pxed-old), DNSMASQ_START_RATE, SEARCH_DEADLINE
# (seconds per search, 0 = none), ZERO_STOP, RESTART_EACH_STEP, STEP_FN and
# WARMUP_FN (see search).

SRV=pxbd-srv
CLI=pxbd-cli
SERVER_PID=
SERVER_KIND=

bench_cleanup() {
  stop_server
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  rm -rf "$WORK"
}

bench_net_up() {
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  ip netns add "$SRV"
  ip netns add "$CLI"
  ip link add bd0 netns "$CLI" type veth peer name bd1 netns "$SRV"
  ip -n "$SRV" addr add "10.64.0.1/$NET_PREFIX" dev bd1
  ip -n "$CLI" addr add "10.64.0.2/$NET_PREFIX" dev bd0
  local ns
  for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
  ip -n "$SRV" link set bd1 up
  ip -n "$CLI" link set bd0 up
  cc -shared -fPIC -O2 -o "$WORK/rcvbuf_preload.so" tests/bench/rcvbuf_preload.c -ldl
}

# The store a server reads (pxed-old: pxed's), and its file name.
store_kind() { [ "$1" = pxed-old ] && echo pxed || echo "$1"; }
store_file() {
  case "$(store_kind "$1")" in
    pxed) echo leases.db ;;
    kea) echo leases4.csv ;;
    dnsmasq) echo dnsmasq.leases ;;
  esac
}
server_build() { [ "$1" = pxed-old ] && echo "$OLD_BUILD_DIR" || echo "$BUILD_DIR"; }

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  local _
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

port67_bound() { nsenter --net=/run/netns/$SRV ss -Hlun 'sport = :67' | grep -q .; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# start_server SERVER STORE_DIR: a fresh run directory from the pristine
# store, the server started pinned on SERVER_CPU; returns when it serves port 67.
start_server() {
  local srv=$1 store=$2 run="$WORK/run"
  rm -rf "$run"
  cp -a "$store" "$run"
  case "$srv" in
    pxed | pxed-old)
      cat >"$run/pxed.toml" <<EOF
[server]
interfaces = ["bd1"]
lease-db = "$run/leases.db"
control-socket = "$run/pxed.sock"
xdp = "off"
http-port = 0

[[subnet]]
cidr = "$NET_CIDR"
range = ["$POOL_FIRST", "$POOL_LAST"]
router = "10.64.0.1"
lease-time = 3600
EOF
      taskset -c "$SERVER_CPU" nsenter --net=/run/netns/$SRV "$(server_build "$srv")/userspace/pxed" \
        --config "$run/pxed.toml" --log-level info >"$run/server.log" 2>&1 &
      ;;
    kea)
      cat >"$run/kea.json" <<EOF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": ["bd1"], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$run/leases4.csv", "lfc-interval": 0 },
    "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
    "valid-lifetime": 3600,
    "subnet4": [ { "id": 1, "subnet": "$NET_CIDR", "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ],
                   "option-data": [ { "name": "routers", "data": "10.64.0.1" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$run/server.log" } ], "severity": "WARN" } ]
} }
EOF
      KEA_PIDFILE_DIR=$run KEA_LOCKFILE_DIR=$run taskset -c "$SERVER_CPU" nsenter --net=/run/netns/$SRV \
        kea-dhcp4 -c "$run/kea.json" >"$run/server.out" 2>&1 &
      ;;
    dnsmasq)
      taskset -c "$SERVER_CPU" nsenter --net=/run/netns/$SRV dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --port=0 --no-ping --user=root --group=root --interface=bd1 --bind-interfaces --dhcp-authoritative \
        --dhcp-range="$POOL_FIRST,$POOL_LAST,$NET_MASK,1h" --dhcp-option=3,10.64.0.1 --dhcp-lease-max=4000000 \
        --dhcp-leasefile="$run/dnsmasq.leases" --pid-file="$run/dnsmasq.pid" --log-facility="$run/server.log" \
        >"$run/server.out" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  SERVER_KIND=$srv
  local _
  for _ in $(seq $((START_TIMEOUT * 10))); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$run"/server.* >&2
      echo "$BENCH: $srv exited at start" >&2
      exit 1
    fi
    # dnsmasq reads its leasefile after it binds port 67: started once idle.
    if port67_bound && { [ "$srv" = kea ] || [ "$srv" = dnsmasq ] || grep -q ' ready' "$run/server.log"; }; then
      if [ "$srv" = dnsmasq ]; then
        local a b
        a=$(cpu_ticks)
        sleep 0.5
        b=$(cpu_ticks)
        [ "$a" = "$b" ] || continue
      fi
      sleep 0.5
      return 0
    fi
    sleep 0.1
  done
  echo "$BENCH: $srv did not serve within ${START_TIMEOUT}s (loading $store); skipped" >&2
  stop_server
  return 1
}

# Extra remarks about a finished step (pxed: its rate-limit and pool counters).
server_notes() {
  case "$SERVER_KIND" in pxed | pxed-old) ;; *) return 0 ;; esac
  nsenter --net=/run/netns/$SRV "$(server_build "$SERVER_KIND")/userspace/pxectl" -s "$WORK/run/pxed.sock" stats \
    2>/dev/null | sed -n 's/^DHCP not answered *//p' || true
}

# Waits (at most 60 s) until the server has used no CPU for half a second:
# an overloaded step leaves a backlog in its socket that must not count
# against the next one.
wait_idle() {
  local a b _
  for _ in $(seq 120); do
    a=$(cpu_ticks)
    sleep 0.5
    b=$(cpu_ticks)
    [ "$a" != "$b" ] || return 0
  done
}

# perf RATE SECONDS OUT PERFDHCP_ARGS...: one perfdhcp run, pinned on CLIENT_CPU.
perf() {
  local rate=$1 secs=$2 out=$3
  shift 3
  LD_PRELOAD="$WORK/rcvbuf_preload.so" taskset -c "$CLIENT_CPU" nsenter --net=/run/netns/$CLI \
    timeout $((secs + 30)) perfdhcp -4 -l bd0 -r "$rate" -p "$secs" -W 1000000 "$@" 10.64.0.1 >"$out" 2>&1 || true
}

# parse_perf OUT SECONDS: DISCOVERs sent, ACKs received, 4-way drop
# percentage, DO and RA average / max delay (ms), completed exchanges per second.
parse_perf() {
  awk -v secs="$2" '
    /Statistics for: DISCOVER-OFFER/ { x = "do" }
    /Statistics for: REQUEST-ACK/ { x = "ra" }
    /Statistics for: RELEASE/ { x = "rel" }
    /^sent packets:/ { sent[x] = $3 }
    /^received packets:/ { recv[x] = $3 }
    /^avg delay:/ { avg[x] = $3 }
    /^max delay:/ { max[x] = $3 }
    END {
      s = sent["do"] + 0; a = recv["ra"] + 0
      d = s > 0 ? 100 * (1 - a / s) : 100
      printf "%d %d %.2f %s %s %s %s %.0f %d\n", s, a, d, (avg["do"] ? avg["do"] : "-"), (max["do"] ? max["do"] : "-"),
        (avg["ra"] ? avg["ra"] : "-"), (max["ra"] ? max["ra"] : "-"), a / secs, sent["rel"] + 0
    }' "$1"
}

# The default step: one perfdhcp with PERF_ARGS at RATE. A step function sets
# STEP_SENT STEP_ACKS STEP_DROP STEP_DO_AVG STEP_DO_MAX STEP_RA_AVG STEP_RA_MAX
# STEP_ACKRATE (of the exchanges the pass criterion is about), STEP_PASSRATE
# (the offered rate those are compared with) and STEP_EXTRA (a remark).
step_single() {
  local rate=$1 out="$WORK/perf.txt"
  perf "$rate" "$STEP_SECONDS" "$out" "${PERF_ARGS[@]}"
  read -r STEP_SENT STEP_ACKS STEP_DROP STEP_DO_AVG STEP_DO_MAX STEP_RA_AVG STEP_RA_MAX STEP_ACKRATE STEP_RELEASES \
    < <(parse_perf "$out" "$STEP_SECONDS")
  STEP_PASSRATE=$rate
  STEP_EXTRA=
  # A lease whose RELEASE perfdhcp did not send (it sends them only for
  # completed exchanges, and falls behind under load) stays bound.
  [ "$STEP_RELEASES" -eq 0 ] || STEP_EXTRA="RELEASE sent $STEP_RELEASES (left bound $((STEP_ACKS - STEP_RELEASES)))"
  if [ "$STEP_SENT" -eq 0 ]; then
    echo "$BENCH: perfdhcp sent nothing; its output:" >&2
    cat "$out" >&2
    exit 1
  fi
}
warmup_single() { perf 200 1 "$WORK/warmup.txt" "${PERF_ARGS[@]}"; }

# search SERVER STORE_DIR LABEL: starts the server from STORE_DIR, warms it up
# (WARMUP_FN, not counted), prints one line per step (STEP_FN) and sets BEST_*
# to the best passing step (BEST_RATE - when the server did not start;
# RESTART_EACH_STEP=1: a fresh start from STORE_DIR before every step);
# BEST_PARTIAL=1 when SEARCH_DEADLINE cut the search short.
search() {
  local srv=$1 store=$2 label=$3 rate=$START_RATE lo=0 hi=0 s zero=0 t0=$SECONDS
  [ "$srv" != dnsmasq ] || rate=${DNSMASQ_START_RATE:-$START_RATE}
  BEST_RATE=- BEST_ACKRATE=- BEST_DROP=- BEST_AVG=- BEST_MAX=- BEST_NOTES='' BEST_PARTIAL=0 BEST_CLIENT_BOUND=0
  BEST_FIRST_CPU_US=-
  start_server "$srv" "$store" || return 0
  BEST_RATE=0 BEST_ACKRATE=0
  "${WARMUP_FN:-warmup_single}"
  for s in $(seq "$MAX_STEPS"); do
    if [ "${RESTART_EACH_STEP:-0}" = 1 ] && [ "$s" -gt 1 ]; then
      stop_server
      start_server "$srv" "$store" || break
      "${WARMUP_FN:-warmup_single}"
    fi
    wait_idle
    local cpu0 cpu1
    cpu0=$(cpu_ticks)
    "${STEP_FN:-step_single}" "$rate"
    cpu1=$(cpu_ticks)
    # The server's CPU time (user + system, all its threads) per completed
    # exchange: what an exchange costs it, whoever bounded the step's rate.
    STEP_CPU_US=$(awk -v t=$((cpu1 - cpu0)) -v a="$STEP_ACKS" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { if (a > 0) printf "%.1f", t * 1e6 / hz / a; else print "-" }')
    [ "$s" -gt 1 ] || BEST_FIRST_CPU_US=$STEP_CPU_US
    STEP_EXTRA="$STEP_EXTRA server CPU $STEP_CPU_US us/exchange"
    STEP_NOTES=$(server_notes)
    local ok=0
    # (completed rate from the count, not the rounded STEP_ACKRATE: it matters at a few per second)
    awk -v d="$STEP_DROP" -v a="$STEP_ACKS" -v t="$STEP_SECONDS" -v r="$STEP_PASSRATE" \
      'BEGIN { exit !(d <= 1.0 && a / t >= 0.9 * r) }' && ok=1
    # A step lost at <= 1 % drops because perfdhcp sent under 90 % of its
    # DISCOVERs measured the client, not the server: the result is then a
    # lower bound for the server (BEST_CLIENT_BOUND=1).
    if [ $ok = 0 ] && awk -v d="$STEP_DROP" -v s="$STEP_SENT" -v t="$STEP_SECONDS" -v r="$STEP_PASSRATE" \
      'BEGIN { exit !(d <= 1.0 && s < 0.9 * r * t) }'; then
      STEP_EXTRA="$STEP_EXTRA [perfdhcp fell behind]"
      BEST_CLIENT_BOUND=1
    fi
    printf '  %-8s %s step %2d  offered %6d/s  DISCOVER sent %7d  ACK recv %7d (%6d/s)  drops %6.2f%%  DO avg/max %s/%s ms  RA avg/max %s/%s ms  %s %s %s\n' \
      "$srv" "$label" "$s" "$rate" "$STEP_SENT" "$STEP_ACKS" "$STEP_ACKRATE" "$STEP_DROP" "$STEP_DO_AVG" "$STEP_DO_MAX" \
      "$STEP_RA_AVG" "$STEP_RA_MAX" "$([ $ok = 1 ] && echo pass || echo FAIL)" "$STEP_EXTRA" "$STEP_NOTES"
    if [ $ok = 1 ]; then
      lo=$rate
      BEST_RATE=$rate BEST_ACKRATE=$STEP_ACKRATE BEST_DROP=$STEP_DROP BEST_NOTES=$STEP_NOTES
      BEST_AVG=$(awk -v a="$STEP_DO_AVG" -v b="$STEP_RA_AVG" 'BEGIN { printf "%.3f", a + b }')
      BEST_MAX=$(awk -v a="$STEP_DO_MAX" -v b="$STEP_RA_MAX" 'BEGIN { printf "%.1f", (a > b ? a : b) }')
    else
      hi=$rate
    fi
    # ZERO_STOP (default 2) steps in a row without one completed exchange:
    # the server cannot answer within perfdhcp's drop time (1 s) at all.
    if [ "$STEP_ACKS" -eq 0 ]; then zero=$((zero + 1)); else zero=0; fi
    [ $zero -lt "${ZERO_STOP:-2}" ] || break
    if [ "${SEARCH_DEADLINE:-0}" -gt 0 ] && [ $((SECONDS - t0)) -ge "$SEARCH_DEADLINE" ] && [ "$s" -lt "$MAX_STEPS" ]; then
      echo "  $srv $label: search stopped after $((SECONDS - t0)) s (SEARCH_DEADLINE $SEARCH_DEADLINE s): partial" >&2
      BEST_PARTIAL=1
      break
    fi
    if [ $hi -eq 0 ]; then
      rate=$((rate * 2))
      [ $rate -le $MAX_RATE ] || break
    elif [ $lo -eq 0 ]; then
      # Nothing passed yet: try at most half, or the rate it completed.
      # (The completed rate scaled to the offered one: at 100 % occupancy
      # the criterion is about the holders' half of the offered rate.)
      local done_rate=$((STEP_ACKRATE * hi / STEP_PASSRATE))
      rate=$((hi / 2))
      [ $done_rate -ge $rate ] || [ $done_rate -eq 0 ] || rate=$done_rate
    else
      [ $((hi - lo)) -gt $((lo / 10)) ] || break
      rate=$(((lo + hi) / 2))
    fi
    [ "$rate" -ge "${MIN_RATE:-1}" ] || break  # (MIN_RATE: a step function that splits its rate)
  done
  stop_server
  echo "  $srv $label: search took $((SECONDS - t0)) s"
}
