// The PostgreSQL lease store. One connection, shared by the commit thread
// and the event loop's rare writes (reservations) under a mutex; it is
// opened again when it broke (the database restarted), so a commit after an
// outage needs no restart of pxed.
//
// Allocation across daemons: each daemon picks addresses from its own table
// (kept close to the database's by the watcher, pg_watcher.h) and the
// database has the last word. An upsert overwrites a row only when it is the
// same client's, expired or released (the ON CONFLICT ... WHERE below), all
// in the batch's one transaction; a refused row comes back as lost, and its
// ACK never leaves.

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>

#include "lease/postgres/pg.h"
#include "lease/postgres/postgres.h"

namespace pxed::lease {

namespace {

constexpr size_t kRowsPerStatement = 500;  // 10 parameters a row: well under libpq's 65535
std::string ip_array(const std::vector<int64_t>& v) {
    std::string s = "{";
    for (size_t i = 0; i < v.size(); i++) {
        if (i) s += ',';
        s += std::to_string(v[i]);
    }
    s += '}';
    return s;
}

class PgStore final : public LeaseStore {
public:
    PgStore(std::string url, std::string node, pg::Conn c)
        : url_(std::move(url)), node_(std::move(node)), conn_(std::move(c)) {}

    Result<size_t> load_each(const std::function<void(Lease&&)>& f) override {
        std::lock_guard lk(mu_);
        auto c = conn();
        if (!c) return Err(c.error());
        std::string sql = std::string("SELECT ") + pg::kLeaseColumns + " FROM pxed_leases";
        // Row by row (single-row mode): a million leases are never all in
        // libpq's memory and the table's at once.
        if (!PQsendQuery(*c, sql.c_str()) || !PQsetSingleRowMode(*c)) return Err(broken(*c, "reading leases"));
        size_t n = 0;
        std::string error;
        while (pg::Res r{PQgetResult(*c)}) {
            auto st = PQresultStatus(r.get());
            if (st == PGRES_SINGLE_TUPLE) {
                auto l = pg::lease_row(r.get(), 0);
                if (!l) {
                    if (error.empty()) error = l.error();
                    continue;
                }
                if (error.empty()) f(std::move(*l));
                n++;
            } else if (st != PGRES_TUPLES_OK && error.empty()) {
                error = pg::failure(*c, r.get(), PGRES_TUPLES_OK);
            }
        }
        if (!error.empty()) return Err(where() + ": reading leases: " + error);
        return n;
    }

    // DHCPv6 leases are kept in SQLite only for now: the daemon refuses a
    // [[subnet6]] with a PostgreSQL lease-db at start, so none arrive here.
    Result<size_t> load_each6(const std::function<void(Lease6&&)>&) override { return size_t(0); }

    Result<CommitResult> commit_all(std::span<const Lease> upserts, std::span<const LeaseDelete> deletes,
                                    const Changes6& v6) override {
        if (!v6.empty()) return Err(where() + ": DHCPv6 leases are not stored in PostgreSQL (yet): use an SQLite lease-db");
        if (upserts.empty() && deletes.empty()) return CommitResult{};
        std::lock_guard lk(mu_);
        auto c = conn();
        if (!c) return Err(c.error());
        auto r = commit_locked(*c, upserts, deletes);
        if (!r && PQstatus(*c) != CONNECTION_OK) {
            // The connection broke (the server restarted since the last
            // commit): once more on a new one. Safe even if the broken
            // COMMIT had gone through: the rows are this client's own (the
            // upsert writes them again), a delete only takes the version it
            // names, and a notification twice is read twice.
            conn_.reset();
            c = conn();
            if (!c) return Err(c.error());
            r = commit_locked(*c, upserts, deletes);
        }
        if (!r) {
            if (PQstatus(*c) == CONNECTION_OK) (void)pg::run(*c, "ROLLBACK", "");
            else conn_.reset();  // opened again at the next call
        }
        return r;
    }

    Result<std::vector<StoredReservation>> load_reservations() override {
        std::lock_guard lk(mu_);
        auto c = conn();
        if (!c) return Err(c.error());
        pg::Res r(PQexec(*c, pg::kReservationsQuery));
        if (auto e = pg::failure(*c, r.get(), PGRES_TUPLES_OK); !e.empty())
            return Err(broken(*c, "reading reservations: " + e));
        return pg::reservation_rows(r.get());
    }

    Result<void> put_reservation(const StoredReservation& s) override {
        pg::Params p;
        p.bytes(s.mac.b.data(), 6).num(s.ip.v).text(s.hostname);
        if (s.lease_time) p.num(*s.lease_time);
        else p.null();
        p.text(node_);
        return reservation_tx(
            p,
            "INSERT INTO pxed_reservations (mac, ip, hostname, lease_time, node) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (mac) DO UPDATE SET ip = $2, hostname = $3, lease_time = $4, node = $5, changed = now()",
            "storing the reservation of " + s.mac.str());
    }

    Result<void> delete_reservation(const Mac& mac) override {
        pg::Params p;
        p.bytes(mac.b.data(), 6);
        return reservation_tx(p, "DELETE FROM pxed_reservations WHERE mac = $1",
                              "deleting the reservation of " + mac.str());
    }

    std::string describe() const override { return pg::redact(url_) + " (node " + node_ + ")"; }

private:
    std::string where() const { return "lease database " + pg::redact(url_); }

    // The connection, opened again if it broke; the schema is checked on
    // every new connection (an upgrade by another node shows at once).
    Result<PGconn*> conn() {
        if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return conn_.get();
        conn_.reset();
        auto c = pg::connect(url_);
        if (!c) return Err(c.error());
        if (auto r = pg::run(c->get(), pg::kSessionSettings, where()); !r)
            return Err(r.error());
        conn_ = std::move(c.value());
        return conn_.get();
    }

    std::string broken(PGconn* c, const std::string& what) {
        std::string e = where() + ": " + what;
        if (PQstatus(c) != CONNECTION_OK) conn_.reset();
        return e;
    }

    Result<CommitResult> commit_locked(PGconn* c, std::span<const Lease> upserts, std::span<const LeaseDelete> deletes) {
        CommitResult out;
        if (auto r = pg::run(c, "BEGIN", where() + ": BEGIN"); !r) return Err(r.error());
        std::vector<int64_t> refused;
        int64_t now = int64_t(std::time(nullptr));
        for (size_t at = 0; at < upserts.size(); at += kRowsPerStatement) {
            auto chunk = upserts.subspan(at, std::min(kRowsPerStatement, upserts.size() - at));
            pg::Params p;
            p.num(now).text(node_);
            std::string sql =
                "INSERT INTO pxed_leases AS l (ip, mac, client, hostname, guid, start_time, expires, state, "
                "is_static, node) VALUES ";
            for (size_t i = 0; i < chunk.size(); i++) {
                auto& l = chunk[i];
                size_t b = p.size();
                sql += (i ? ",(" : "(");
                for (size_t k = 1; k <= 9; k++) {
                    sql += '$';
                    sql += std::to_string(b + k);
                    sql += k < 9 ? "," : ",$2)";
                }
                p.num(l.ip.v).bytes(l.mac.b.data(), 6).bytes(l.client.data(), l.client.size()).text(l.hostname);
                if (l.guid.empty()) p.null();
                else p.bytes(l.guid.data(), l.guid.size());
                p.num(l.start).num(l.expires).num(int64_t(l.state)).text(l.is_static ? "t" : "f");
            }
            // Another client's row is overwritten only once it has ended:
            // the database, not each daemon's view of it, decides.
            sql +=
                " ON CONFLICT (ip) DO UPDATE SET mac = EXCLUDED.mac, client = EXCLUDED.client, "
                "hostname = EXCLUDED.hostname, guid = EXCLUDED.guid, start_time = EXCLUDED.start_time, "
                "expires = EXCLUDED.expires, state = EXCLUDED.state, is_static = EXCLUDED.is_static, "
                "node = EXCLUDED.node, seq = nextval('pxed_lease_seq') "
                "WHERE l.client = EXCLUDED.client OR l.state = 2 OR l.expires <= $1 RETURNING ip, seq";
            pg::Res r = p.exec(c, sql);
            if (auto e = pg::failure(c, r.get(), PGRES_TUPLES_OK); !e.empty()) return Err(where() + ": storing leases: " + e);
            std::vector<std::pair<uint32_t, int64_t>> written;
            for (int i = 0; i < PQntuples(r.get()); i++)
                written.emplace_back(uint32_t(pg::num(r.get(), i, 0)), pg::num(r.get(), i, 1));
            std::sort(written.begin(), written.end());
            for (auto& l : chunk) {
                auto it = std::lower_bound(written.begin(), written.end(), std::pair<uint32_t, int64_t>(l.ip.v, INT64_MIN));
                if (it == written.end() || it->first != l.ip.v) refused.push_back(l.ip.v);
                else out.versions.emplace_back(l.ip, it->second);
            }
        }
        if (!refused.empty()) {
            pg::Params p;
            p.text(ip_array(refused));
            pg::Res r = p.exec(c, std::string("SELECT ") + pg::kLeaseColumns + " FROM pxed_leases WHERE ip = ANY($1::bigint[])");
            if (auto e = pg::failure(c, r.get(), PGRES_TUPLES_OK); !e.empty()) return Err(where() + ": reading refused leases: " + e);
            for (int i = 0; i < PQntuples(r.get()); i++)
                if (auto l = pg::lease_row(r.get(), i)) out.lost.push_back(std::move(*l));
        }
        if (!deletes.empty()) {
            // Only the row this daemon knows: not one another daemon wrote since.
            std::vector<int64_t> ips, seqs;
            for (auto& d : deletes) {
                ips.push_back(d.ip.v);
                seqs.push_back(d.version);
            }
            pg::Params p;
            p.text(ip_array(ips)).text(ip_array(seqs));
            pg::Res r = p.exec(c,
                               "DELETE FROM pxed_leases l USING unnest($1::bigint[], $2::bigint[]) AS d(ip, seq) "
                               "WHERE l.ip = d.ip AND l.seq <= d.seq RETURNING l.ip, l.seq");
            if (auto e = pg::failure(c, r.get(), PGRES_TUPLES_OK); !e.empty()) return Err(where() + ": deleting leases: " + e);
            // The other daemons drop the rows this commit deleted (each
            // "address:version", in notifications of at most ~7,900 bytes:
            // PostgreSQL's limit is 8,000).
            std::string payload = node_;
            auto notify = [&]() -> Result<void> {
                pg::Params n;
                n.text(payload);
                pg::Res nr = n.exec(c, "SELECT pg_notify('pxed_lease_deletes', $1)");
                if (auto e = pg::failure(c, nr.get(), PGRES_TUPLES_OK); !e.empty()) return Err(where() + ": notifying: " + e);
                payload = node_;
                return {};
            };
            for (int i = 0; i < PQntuples(r.get()); i++) {
                payload += ' ';
                payload += PQgetvalue(r.get(), i, 0);
                payload += ':';
                payload += PQgetvalue(r.get(), i, 1);
                if (payload.size() > 7900)
                    if (auto n = notify(); !n) return Err(n.error());
            }
            if (payload.size() > node_.size())
                if (auto n = notify(); !n) return Err(n.error());
        }
        if (!out.versions.empty()) {
            // The other daemons fetch exactly the rows this commit wrote.
            int64_t lo = INT64_MAX, hi = 0;
            for (auto& [ip, v] : out.versions) lo = std::min(lo, v), hi = std::max(hi, v);
            pg::Params p;
            p.text(node_ + " " + std::to_string(lo) + " " + std::to_string(hi));  // pg_watcher.cpp reads it
            pg::Res r = p.exec(c, "SELECT pg_notify('pxed_leases', $1)");
            if (auto e = pg::failure(c, r.get(), PGRES_TUPLES_OK); !e.empty()) return Err(where() + ": notifying: " + e);
        }
        if (auto r = pg::run(c, "COMMIT", where() + ": COMMIT"); !r) return Err(r.error());
        return out;
    }

    Result<void> reservation_tx(const pg::Params& p, const std::string& sql, const std::string& what) {
        std::lock_guard lk(mu_);
        if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) {
            // A connection idle since before a server restart looks fine
            // until used: ask the server before writing.
            pg::Res ping(PQexec(conn_.get(), "SELECT 1"));
            if (PQstatus(conn_.get()) != CONNECTION_OK) conn_.reset();
        }
        auto c = conn();
        if (!c) return Err(c.error());
        auto fail = [&](const std::string& e) -> Result<void> {
            if (PQstatus(*c) == CONNECTION_OK) (void)pg::run(*c, "ROLLBACK", "");
            return Err(broken(*c, what + ": " + e));
        };
        if (auto r = pg::run(*c, "BEGIN", "BEGIN"); !r) return fail(r.error());
        pg::Res r = p.exec(*c, sql);
        if (auto e = pg::failure(*c, r.get(), PGRES_COMMAND_OK); !e.empty()) return fail(e);
        if (auto n = pg::run(*c, "NOTIFY pxed_reservations", "NOTIFY"); !n) return fail(n.error());
        if (auto m = pg::run(*c, "COMMIT", "COMMIT"); !m) return fail(m.error());
        return {};
    }

    std::string url_, node_;
    std::mutex mu_;
    pg::Conn conn_;
};

}  // namespace

bool is_postgres_url(const std::string& s) {
    if (s.starts_with("postgresql://") || s.starts_with("postgres://")) return true;
    return s.find('=') != std::string::npos && (s.find("dbname=") != std::string::npos || s.find("host=") != std::string::npos);
}

Result<std::unique_ptr<LeaseStore>> open_postgres_store(const std::string& url, const std::string& node) {
    auto v = pg_schema_version(url);
    if (!v) return Err(v.error());
    std::string where = "lease database " + pg::redact(url);
    if (*v == 0) return Err(where + " has no pxed schema: create it with pxed --db-init");
    if (*v < kPgSchemaVersion)
        return Err(where + " has schema version " + std::to_string(*v) + ", this pxed needs " +
                   std::to_string(kPgSchemaVersion) + ": run pxed --db-upgrade");
    if (*v > kPgSchemaVersion)
        return Err(where + " has schema version " + std::to_string(*v) + ", newer than this pxed's (" +
                   std::to_string(kPgSchemaVersion) + "): run a newer pxed");
    auto c = pg::connect(url);
    if (!c) return Err(c.error());
    if (auto r = pg::run(c->get(), pg::kSessionSettings, where); !r)
        return Err(r.error());
    return std::unique_ptr<LeaseStore>(new PgStore(url, node, std::move(c.value())));
}

}  // namespace pxed::lease
