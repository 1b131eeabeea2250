#include <cstring>
#include <memory>

#include "lease/sqlite/sqlite6.h"

namespace pxed::lease {

namespace {

struct StmtFinalize {
    void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

Stmt prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
        sqlite3_finalize(st);
        return nullptr;
    }
    return Stmt(st);
}

}  // namespace

Result<void> store_leases6(sqlite3* db, const Changes6& v6) {
    if (v6.empty()) return {};
    // Prepared per commit: a batch of many leases pays it once.
    Stmt up = prepare(db,
                      "INSERT INTO leases6 (ip, duid, iaid, mac, hostname, start, preferred, expires, state, is_static) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(ip) DO UPDATE SET duid=?2, iaid=?3, "
                      "mac=?4, hostname=?5, start=?6, preferred=?7, expires=?8, state=?9, is_static=?10");
    Stmt del = prepare(db, "DELETE FROM leases6 WHERE ip=?1");
    if (!up || !del) return Err("preparing the DHCPv6 lease statements");
    for (auto& l : v6.upserts) {
        sqlite3_stmt* st = up.get();
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, l.ip.b.data(), 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, l.duid.data(), int(l.duid.size()), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, l.iaid);
        if (l.mac) sqlite3_bind_blob(st, 4, l.mac->b.data(), 6, SQLITE_STATIC);
        else sqlite3_bind_null(st, 4);
        sqlite3_bind_text(st, 5, l.hostname.c_str(), int(l.hostname.size()), SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, l.start);
        sqlite3_bind_int64(st, 7, l.preferred_until);
        sqlite3_bind_int64(st, 8, l.expires);
        sqlite3_bind_int(st, 9, int(l.state));
        sqlite3_bind_int(st, 10, l.is_static ? 1 : 0);
        if (sqlite3_step(st) != SQLITE_DONE) return Err("storing DHCPv6 lease " + l.ip.str());
    }
    for (auto& ip : v6.deletes) {
        sqlite3_reset(del.get());
        sqlite3_bind_blob(del.get(), 1, ip.b.data(), 16, SQLITE_STATIC);
        if (sqlite3_step(del.get()) != SQLITE_DONE) return Err("deleting DHCPv6 lease " + ip.str());
    }
    return {};
}

Result<size_t> load_leases6(sqlite3* db, const std::function<void(Lease6&&)>& f) {
    Stmt stmt = prepare(db, "SELECT ip, duid, iaid, mac, hostname, start, preferred, expires, state, is_static FROM leases6");
    if (!stmt) return Err("reading DHCPv6 leases");
    sqlite3_stmt* st = stmt.get();
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        Lease6 l;
        if (sqlite3_column_bytes(st, 0) != 16) return Err("a DHCPv6 lease row whose address is not 16 bytes");
        std::memcpy(l.ip.b.data(), sqlite3_column_blob(st, 0), 16);
        auto* d = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
        l.duid.assign(d, d + sqlite3_column_bytes(st, 1));
        l.iaid = uint32_t(sqlite3_column_int64(st, 2));
        if (sqlite3_column_bytes(st, 3) == 6) {
            Mac m;
            std::memcpy(m.b.data(), sqlite3_column_blob(st, 3), 6);
            l.mac = m;
        }
        auto* h = sqlite3_column_text(st, 4);
        l.hostname = h ? reinterpret_cast<const char*>(h) : "";
        l.start = sqlite3_column_int64(st, 5);
        l.preferred_until = sqlite3_column_int64(st, 6);
        l.expires = sqlite3_column_int64(st, 7);
        int state = sqlite3_column_int(st, 8);
        if (state < 0 || state > int(State::Declined))
            return Err("DHCPv6 lease " + l.ip.str() + " has an unknown state " + std::to_string(state));
        l.state = State(state);
        l.is_static = sqlite3_column_int(st, 9) != 0;
        f(std::move(l));
        n++;
    }
    if (rc != SQLITE_DONE) return Err("reading DHCPv6 leases");
    return n;
}

}  // namespace pxed::lease
