# shellcheck shell=bash
# A throw-away PostgreSQL server for benchmark scripts: its own cluster in a
# directory, reachable only through a Unix socket in that directory (no TCP,
# no system service, no port shared with an administrator's cluster). The
# same layout as tests/support/pg_server.cpp.
#
#   pg_up DIR      initdb into DIR/data (first time), start, wait until ready;
#                  exports PG_SOCKDIR, PG_BINDIR and PG_CONNINFO (libpq
#                  key=value base: append " dbname=NAME")
#   pg_uri DB      the URI pxed's lease-db takes:
#                  postgresql:///DB?host=$PG_SOCKDIR&user=postgres
#   pg_createdb DB
#   pg_psql DB SQL psql -XAtq (rows only), stops on the first error
#   pg_down DIR    fast stop (a no-op when not running); the caller removes DIR
#
# Run as root. PostgreSQL refuses to run as root, so the server runs as the
# `postgres` system user: DIR is made for and owned by it, and every parent
# of DIR must be searchable by it (a `mktemp -d` directory is 0700: chmod it
# 711 first, or use a directory directly under /tmp).

PG_BINDIR=${PG_BINDIR:-}

# The newest installed server (Debian: /usr/lib/postgresql/<major>/bin).
# (`return 0`, not a bare `return`: in an EXIT trap a bare return gives the
# status of the command that failed before the trap, and pg_down from a
# cleanup trap then left the server running.)
pg_bindir() {
  if [ -n "$PG_BINDIR" ]; then echo "$PG_BINDIR"; return 0; fi
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "pg.sh: no PostgreSQL server under /usr/lib/postgresql (run scripts/setup-deps)" >&2
    return 1
  fi
  echo "$d"
}

# Commands run in DIR: the caller's working directory may be one the
# postgres user cannot enter, which initdb and pg_ctl complain about.
pg_as_postgres() {
  local dir=$1
  shift
  (cd "$dir" && runuser -u postgres -- "$@")
}

pg_up() {
  local dir=${1:?pg_up DIR}
  PG_BINDIR=$(pg_bindir) || return 1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # 0755: pxed's lease thread is root without CAP_DAC_OVERRIDE and must
  # still reach the socket; the data directory itself stays 0700.
  chown postgres:postgres "$dir"
  chmod 755 "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    echo "pg_up: the postgres user cannot reach $dir: make its parents searchable (chmod o+x)" >&2
    return 1
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    # --no-sync only skips initdb's final flush; the server keeps fsync on.
    if ! pg_as_postgres "$dir" "$PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
      -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
      echo "pg_up: initdb failed:" >&2
      tail -n 20 "$dir/initdb.log" >&2
      return 1
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF

# pg.sh: Unix socket only, small footprint; fsync stays on.
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
port = 5432
shared_buffers = 16MB
max_connections = 50
EOF
  fi
  # -t bounds the wait for "ready to accept connections".
  if ! pg_as_postgres "$dir" "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    >/dev/null 2>"$dir/pg_ctl.err"; then
    echo "pg_up: PostgreSQL did not start in $dir:" >&2
    cat "$dir/pg_ctl.err" >&2
    tail -n 20 "$dir/server.log" >&2
    return 1
  fi
  export PG_SOCKDIR=$dir PG_BINDIR
  export PG_CONNINFO="host=$dir user=postgres"
}

pg_uri() { echo "postgresql:///${1:?pg_uri DB}?host=$PG_SOCKDIR&user=postgres"; }

pg_psql() {
  "$PG_BINDIR/psql" -XAtq -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -U postgres -d "${1:?pg_psql DB SQL}" -c "${2:?}"
}

pg_createdb() { pg_psql postgres "CREATE DATABASE \"${1:?pg_createdb DB}\"" >/dev/null; }

pg_down() {
  local dir=${1:?pg_down DIR} bindir
  bindir=$(pg_bindir) || return 1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  # A stale postmaster.pid (the server died) is not an error either.
  pg_as_postgres "$dir" "$bindir/pg_ctl" -D "$dir/data" status >/dev/null || return 0
  pg_as_postgres "$dir" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}
