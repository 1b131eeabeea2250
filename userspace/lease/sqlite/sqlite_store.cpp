// Embedded lease store on SQLite (WAL, synchronous=FULL): one fsync per
// commit, and the daemon commits a whole batch of ACKs at once.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "lease/lease_store.h"
#include "lease/sqlite/sqlite6.h"

namespace pxed::lease {

namespace {

constexpr int kSchemaVersion = 1;

// Handles that finalize and close themselves: no error branch has to.
struct StmtFinalize {
    void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
struct DbClose {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;
using Db = std::unique_ptr<sqlite3, DbClose>;

// Compiles `sql`; an empty Stmt when it does not compile (sqlite3_errmsg says why).
Stmt prepare_stmt(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
        sqlite3_finalize(st);
        return nullptr;
    }
    return Stmt(st);
}

// Opens `path` with `flags`; the error names the file.
Result<Db> open_db(const std::string& path, int flags) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) return Err("cannot open lease database " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(raw, 5000);
    return db;
}

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS pxed_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    ip INTEGER PRIMARY KEY,      -- IPv4 address, host order
    mac BLOB NOT NULL,
    client BLOB NOT NULL,        -- identity: option 61 or htype+chaddr
    hostname TEXT NOT NULL DEFAULT '',
    guid BLOB,
    start INTEGER NOT NULL,
    expires INTEGER NOT NULL,    -- seconds since the epoch; max int64 = infinite
    state INTEGER NOT NULL,
    is_static INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS reservations (
    mac BLOB PRIMARY KEY,
    ip INTEGER NOT NULL UNIQUE,
    hostname TEXT NOT NULL DEFAULT '',
    lease_time INTEGER            -- NULL: the subnet's
);
)";

class SqliteStore final : public LeaseStore {
public:
    SqliteStore(Db db, std::string path) : owned_(std::move(db)), db_(owned_.get()), path_(std::move(path)) {}

    Result<void> prepare() {
        const char* up =
            "INSERT INTO leases (ip, mac, client, hostname, guid, start, expires, state, is_static) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(ip) DO UPDATE SET mac=?2, client=?3, "
            "hostname=?4, guid=?5, start=?6, expires=?7, state=?8, is_static=?9";
        if (!(upsert_ = prepare_stmt(db_, up))) return Err(err("preparing statements"));
        if (!(del_ = prepare_stmt(db_, "DELETE FROM leases WHERE ip=?1"))) return Err(err("preparing statements"));
        return {};
    }

    Result<size_t> load_each(const std::function<void(Lease&&)>& f) override {
        Stmt stmt = prepare_stmt(db_, "SELECT ip, mac, client, hostname, guid, start, expires, state, is_static FROM leases");
        if (!stmt) return Err(err("reading leases"));
        sqlite3_stmt* st = stmt.get();
        size_t n = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            Lease l;
            l.ip = Ipv4(uint32_t(sqlite3_column_int64(st, 0)));
            auto blob = [&](int col) {
                auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st, col));
                return std::vector<uint8_t>(p, p + sqlite3_column_bytes(st, col));
            };
            auto mac = blob(1);
            if (mac.size() == 6) std::memcpy(l.mac.b.data(), mac.data(), 6);
            auto client = blob(2);
            l.client.assign(client.begin(), client.end());
            auto* h = sqlite3_column_text(st, 3);
            l.hostname = h ? reinterpret_cast<const char*>(h) : "";
            l.guid = blob(4);
            l.start = sqlite3_column_int64(st, 5);
            l.expires = sqlite3_column_int64(st, 6);
            int state = sqlite3_column_int(st, 7);
            if (state < 0 || state > int(State::Declined))
                return Err(path_ + ": lease for " + l.ip.str() + " has an unknown state " + std::to_string(state));
            l.state = State(state);
            l.is_static = sqlite3_column_int(st, 8) != 0;
            l.version = 1;  // stored (this daemon's store alone: one version is enough)
            f(std::move(l));
            n++;
        }
        if (rc != SQLITE_DONE) return Err(err("reading leases"));
        return n;
    }

    Result<size_t> load_each6(const std::function<void(Lease6&&)>& f) override {
        auto n = load_leases6(db_, f);
        if (!n) return Err(err(n.error()));
        return n;
    }

    Result<CommitResult> commit_all(std::span<const Lease> upserts, std::span<const LeaseDelete> deletes,
                                    const Changes6& v6) override {
        if (upserts.empty() && deletes.empty() && v6.empty()) return CommitResult{};
        if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return Err(err("BEGIN"));
        for (auto& l : upserts) {
            sqlite3_reset(upsert_.get());
            sqlite3_bind_int64(upsert_.get(), 1, l.ip.v);
            sqlite3_bind_blob(upsert_.get(), 2, l.mac.b.data(), 6, SQLITE_STATIC);
            sqlite3_bind_blob(upsert_.get(), 3, l.client.data(), int(l.client.size()), SQLITE_STATIC);
            sqlite3_bind_text(upsert_.get(), 4, l.hostname.c_str(), int(l.hostname.size()), SQLITE_STATIC);
            if (l.guid.empty()) sqlite3_bind_null(upsert_.get(), 5);
            else sqlite3_bind_blob(upsert_.get(), 5, l.guid.data(), int(l.guid.size()), SQLITE_STATIC);
            sqlite3_bind_int64(upsert_.get(), 6, l.start);
            sqlite3_bind_int64(upsert_.get(), 7, l.expires);
            sqlite3_bind_int(upsert_.get(), 8, int(l.state));
            sqlite3_bind_int(upsert_.get(), 9, l.is_static ? 1 : 0);
            if (sqlite3_step(upsert_.get()) != SQLITE_DONE) return rollback("storing lease " + l.ip.str());
        }
        for (auto& d : deletes) {
            sqlite3_reset(del_.get());
            sqlite3_bind_int64(del_.get(), 1, d.ip.v);
            if (sqlite3_step(del_.get()) != SQLITE_DONE) return rollback("deleting lease " + d.ip.str());
        }
        if (auto r = store_leases6(db_, v6); !r) return rollback(r.error());
        if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return rollback("COMMIT");
        CommitResult out;  // this daemon's alone: nothing is ever lost to another
        for (auto& l : upserts) out.versions.emplace_back(l.ip, 1);
        return out;
    }

    Result<std::vector<StoredReservation>> load_reservations() override {
        Stmt stmt = prepare_stmt(db_, "SELECT mac, ip, hostname, lease_time FROM reservations ORDER BY ip");
        if (!stmt) return Err(err("reading reservations"));
        sqlite3_stmt* st = stmt.get();
        std::vector<StoredReservation> out;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            StoredReservation r;
            if (sqlite3_column_bytes(st, 0) != 6) continue;
            std::memcpy(r.mac.b.data(), sqlite3_column_blob(st, 0), 6);
            r.ip = Ipv4(uint32_t(sqlite3_column_int64(st, 1)));
            auto* h = sqlite3_column_text(st, 2);
            r.hostname = h ? reinterpret_cast<const char*>(h) : "";
            if (sqlite3_column_type(st, 3) != SQLITE_NULL) r.lease_time = uint32_t(sqlite3_column_int64(st, 3));
            out.push_back(std::move(r));
        }
        if (rc != SQLITE_DONE) return Err(err("reading reservations"));
        return out;
    }

    Result<void> put_reservation(const StoredReservation& r) override {
        Stmt stmt = prepare_stmt(db_,
                                 "INSERT INTO reservations (mac, ip, hostname, lease_time) VALUES (?1, ?2, ?3, ?4) "
                                 "ON CONFLICT(mac) DO UPDATE SET ip=?2, hostname=?3, lease_time=?4");
        if (!stmt) return Err(err("storing a reservation"));
        sqlite3_stmt* st = stmt.get();
        sqlite3_bind_blob(st, 1, r.mac.b.data(), 6, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, r.ip.v);
        sqlite3_bind_text(st, 3, r.hostname.c_str(), int(r.hostname.size()), SQLITE_STATIC);
        if (r.lease_time) sqlite3_bind_int64(st, 4, *r.lease_time);
        else sqlite3_bind_null(st, 4);
        if (sqlite3_step(st) != SQLITE_DONE) return Err(err("storing the reservation of " + r.mac.str()));
        return {};
    }

    Result<void> delete_reservation(const Mac& mac) override {
        Stmt stmt = prepare_stmt(db_, "DELETE FROM reservations WHERE mac=?1");
        if (!stmt) return Err(err("deleting a reservation"));
        sqlite3_stmt* st = stmt.get();
        sqlite3_bind_blob(st, 1, mac.b.data(), 6, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) return Err(err("deleting the reservation of " + mac.str()));
        return {};
    }

    std::string describe() const override { return "sqlite:" + path_; }

    std::string err(const std::string& what) const {
        return "lease database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_);
    }

private:
    Result<CommitResult> rollback(const std::string& what) {
        std::string e = err(what);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return Err(e);
    }

    Db owned_;
    sqlite3* db_;  // owned_.get()
    std::string path_;
    Stmt upsert_;  // statements before the connection in destruction order: declared after it
    Stmt del_;
};

std::string single_text(sqlite3* db, const char* sql, int* rc_out) {
    sqlite3_stmt* raw = nullptr;
    std::string v;
    int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
    Stmt stmt(raw);
    sqlite3_stmt* st = raw;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            auto* t = sqlite3_column_text(st, 0);
            v = t ? reinterpret_cast<const char*>(t) : "";
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    *rc_out = rc;
    return v;
}

// Every check of an existing file, on a read-only connection: a file pxed
// refuses is never written to (not even the WAL switch in its header).
Result<void> check_existing(const std::string& path, const std::string& keep) {
    auto opened = open_db(path, SQLITE_OPEN_READONLY);
    if (!opened) return Err(opened.error() + keep);
    Db owned = std::move(opened.value());
    sqlite3* db = owned.get();
    auto fail = [&](const std::string& what) -> Result<void> {
        return Err("lease database " + path + ": " + what + keep);
    };
    int qrc = 0;
    std::string check = single_text(db, "PRAGMA quick_check", &qrc);
    if (qrc != SQLITE_OK) return fail(std::string("is not a readable SQLite database (") + sqlite3_errmsg(db) + ")");
    if (check != "ok") return fail("is corrupt (quick_check: " + check + ")");
    auto has_table = [&](const char* name) {
        // Any object of that name, whatever the case of its name or of its
        // type field: SQLite resolves names without case, so the checks below
        // must run on whatever a statement would read.
        std::string sql = std::string("SELECT name FROM sqlite_master WHERE name='") + name + "' COLLATE NOCASE";
        return !single_text(db, sql.c_str(), &qrc).empty();
    };
    std::string any = single_text(db, "SELECT count(*) FROM sqlite_master", &qrc);
    if (qrc != SQLITE_OK) return fail(std::string("is not a readable SQLite database (") + sqlite3_errmsg(db) + ")");
    if (any == "0") return {};  // an empty SQLite file: pxed creates its schema in it
    if (!has_table("leases")) return fail("is an SQLite database of something else (no leases table)");
    if (has_table("pxed_meta")) {
        std::string ver = single_text(db, "SELECT value FROM pxed_meta WHERE key='schema_version'", &qrc);
        if (qrc != SQLITE_OK) return fail(std::string("has an unreadable pxed_meta table (") + sqlite3_errmsg(db) + ")");
        if (!ver.empty() && ver != std::to_string(kSchemaVersion))
            return fail("has schema version " + ver + ", this pxed knows version " + std::to_string(kSchemaVersion));
    }
    // What the daemon reads at start must read: the same queries, here.
    SqliteStore ro(std::move(owned), path);
    if (auto r = ro.prepare(); !r) return Err(r.error() + keep);  // the statements that write, compiled only
    if (auto r = ro.load_each([](Lease&&) {}); !r) return Err(r.error() + keep);
    if (has_table("reservations"))
        if (auto r = ro.load_reservations(); !r) return Err(r.error() + keep);
    if (has_table("leases6"))
        if (auto r = ro.load_each6([](Lease6&&) {}); !r) return Err(r.error() + keep);
    return {};
}

}  // namespace

Result<std::unique_ptr<LeaseStore>> open_sqlite_store(const std::string& path) {
    struct stat sb{};
    bool existed = ::stat(path.c_str(), &sb) == 0;
    if (existed && !S_ISREG(sb.st_mode)) return Err("lease database " + path + " is not a regular file");
    std::string keep = " — pxed does not replace it: move it aside to start with an empty lease database";
    if (existed)
        if (auto r = check_existing(path, keep); !r) return Err(r.error());

    auto opened = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!opened) return Err(opened.error());
    Db owned = std::move(opened.value());
    sqlite3* db = owned.get();
    auto fail = [&](const std::string& what) -> Result<std::unique_ptr<LeaseStore>> {
        return Err("lease database " + path + ": " + what + (existed ? keep : ""));
    };

    int prc = 0;
    std::string mode = single_text(db, "PRAGMA journal_mode=WAL", &prc);
    if (prc != SQLITE_OK || mode != "wal") return fail("cannot switch to WAL mode (" + mode + ")");
    char* msg = nullptr;
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, &msg) != SQLITE_OK ||
        sqlite3_exec(db, kSchema, nullptr, nullptr, &msg) != SQLITE_OK ||
        sqlite3_exec(db, kSchema6, nullptr, nullptr, &msg) != SQLITE_OK) {
        std::string e = msg ? msg : "?";
        sqlite3_free(msg);
        return fail("cannot create the schema: " + e);
    }
    int vrc = 0;
    std::string ver = single_text(db, "SELECT value FROM pxed_meta WHERE key='schema_version'", &vrc);
    if (ver.empty()) {
        std::string sql = "INSERT INTO pxed_meta (key, value) VALUES ('schema_version', '" +
                          std::to_string(kSchemaVersion) + "')";
        sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    } else if (ver != std::to_string(kSchemaVersion)) {
        return fail("has schema version " + ver + ", this pxed knows version " + std::to_string(kSchemaVersion));
    }
    auto store = std::make_unique<SqliteStore>(std::move(owned), path);
    if (auto r = store->prepare(); !r) return Err(r.error());
    return std::unique_ptr<LeaseStore>(std::move(store));
}

}  // namespace pxed::lease
