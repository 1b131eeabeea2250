// pxed's PostgreSQL schema and its migrations. Every table is prefixed
// pxed_, so the schema can share a database with others (Kea's, say).
#include <array>

#include "lease/postgres/pg.h"
#include "lease/postgres/postgres.h"

namespace pxed::lease {

namespace {

// kMigrations[i] takes the schema from version i to version i + 1.
const std::array<const char*, kPgSchemaVersion> kMigrations = {
    // 0 -> 1: leases and the reservations added at run time.
    R"(
CREATE TABLE pxed_schema_version (version integer NOT NULL);
INSERT INTO pxed_schema_version VALUES (0);
-- Every write of a lease row takes the next number: how the daemons sharing
-- the database tell a newer row from one they already know.
CREATE SEQUENCE pxed_lease_seq;
CREATE TABLE pxed_leases (
    ip bigint PRIMARY KEY CHECK (ip BETWEEN 0 AND 4294967295),  -- IPv4 address, host order
    mac bytea NOT NULL,
    client bytea NOT NULL,                -- identity: option 61 or htype+chaddr
    hostname text NOT NULL DEFAULT '',
    guid bytea,                           -- option 97
    start_time bigint NOT NULL,           -- seconds since the epoch
    expires bigint NOT NULL,              -- seconds since the epoch; max bigint = infinite
    state smallint NOT NULL,              -- 1 bound, 2 released, 3 declined
    is_static boolean NOT NULL DEFAULT false,
    node text NOT NULL,                   -- the daemon that wrote it last
    seq bigint NOT NULL DEFAULT nextval('pxed_lease_seq')
);
CREATE INDEX pxed_leases_seq ON pxed_leases (seq);
CREATE TABLE pxed_reservations (
    mac bytea PRIMARY KEY,
    ip bigint NOT NULL UNIQUE CHECK (ip BETWEEN 0 AND 4294967295),
    hostname text NOT NULL DEFAULT '',
    lease_time bigint,                    -- NULL: the subnet's
    node text NOT NULL,
    changed timestamptz NOT NULL DEFAULT now()
);
)",
    // 1 -> 2: each daemon's view of the database, for pxectl status.
    R"(
CREATE TABLE pxed_nodes (
    name text PRIMARY KEY,
    connected_since timestamptz,
    last_sync timestamptz,                -- the last lease or reservation change it applied
    last_seen timestamptz NOT NULL,       -- its watcher's last heartbeat
    leases_applied bigint NOT NULL DEFAULT 0,
    reservations integer NOT NULL DEFAULT 0
);
)",
};

// The version recorded in the database: 0 when there is no pxed schema.
Result<int> read_version(PGconn* c) {
    pg::Res r(PQexec(c, "SELECT to_regclass('pxed_schema_version') IS NOT NULL"));
    if (auto e = pg::failure(c, r.get(), PGRES_TUPLES_OK); !e.empty()) return Err("reading the schema version: " + e);
    if (std::string(PQgetvalue(r.get(), 0, 0)) != "t") return 0;
    pg::Res v(PQexec(c, "SELECT max(version) FROM pxed_schema_version"));
    if (auto e = pg::failure(c, v.get(), PGRES_TUPLES_OK); !e.empty()) return Err("reading the schema version: " + e);
    return int(pg::num(v.get(), 0, 0));
}

// Runs the migrations from the database's version up to `to`, in one
// transaction holding an advisory lock (two daemons started with --db-init
// at once: one creates, the other finds it done).
Result<std::pair<int, int>> migrate(const std::string& url, int to, bool only_if_empty) {
    auto conn = pg::connect(url);
    if (!conn) return Err(conn.error());
    PGconn* c = conn->get();
    std::string where = "lease database " + pg::redact(url);
    if (auto r = pg::run(c, "BEGIN", where); !r) return Err(r.error());
    if (auto r = pg::run(c, "SELECT pg_advisory_xact_lock(7340365)", where + ": locking the schema"); !r)
        return Err(r.error());
    auto from = read_version(c);
    if (!from) return Err(where + ": " + from.error());
    if (!only_if_empty && *from == 0)
        return Err(where + " has no pxed schema: create it with pxed --db-init");
    if (only_if_empty && *from != 0)
        return Err(where + " already has pxed's schema (version " + std::to_string(*from) +
                   "): nothing to initialise; pxed --db-upgrade migrates an older one");
    if (*from > kPgSchemaVersion)
        return Err(where + " has schema version " + std::to_string(*from) + ", newer than this pxed's (" +
                   std::to_string(kPgSchemaVersion) + "): run a newer pxed");
    for (int v = *from; v < to; v++) {
        if (auto r = pg::run(c, kMigrations[size_t(v)], where + ": migrating the schema to version " + std::to_string(v + 1));
            !r)
            return Err(r.error());
        std::string set = "UPDATE pxed_schema_version SET version = " + std::to_string(v + 1);
        if (auto r = pg::run(c, set, where); !r) return Err(r.error());
    }
    if (auto r = pg::run(c, "COMMIT", where + ": committing the schema"); !r) return Err(r.error());
    return std::pair{*from, std::max(*from, to)};
}

}  // namespace

Result<std::string> pg_db_init_at(const std::string& url, int version) {
    if (version < 1 || version > kPgSchemaVersion) return Err("no schema version " + std::to_string(version));
    auto r = migrate(url, version, true);
    if (!r) return Err(r.error());
    return "lease database " + pg::redact(url) + ": pxed schema version " + std::to_string(version) + " created";
}

Result<std::string> pg_db_init(const std::string& url) { return pg_db_init_at(url, kPgSchemaVersion); }

Result<std::string> pg_db_upgrade(const std::string& url) {
    auto r = migrate(url, kPgSchemaVersion, false);
    if (!r) return Err(r.error());
    auto [from, to] = *r;
    std::string where = "lease database " + pg::redact(url);
    if (from == to) return where + ": schema version " + std::to_string(to) + " is current, nothing to do";
    return where + ": schema upgraded from version " + std::to_string(from) + " to " + std::to_string(to);
}

Result<int> pg_schema_version(const std::string& url) {
    auto conn = pg::connect(url);
    if (!conn) return Err(conn.error());
    auto v = read_version(conn->get());
    if (!v) return Err("lease database " + pg::redact(url) + ": " + v.error());
    return *v;
}

}  // namespace pxed::lease
