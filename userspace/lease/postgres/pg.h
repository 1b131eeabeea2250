#pragma once
// libpq at arm's length: handles that free themselves, a parameter list that
// keeps its strings, and the few conversions the backend needs. Internal to
// userspace/lease/postgres.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lease/lease_store.h"
#include "pxed/result.h"

namespace pxed::lease::pg {

struct ConnClose {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResClear {
    void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnClose>;
using Res = std::unique_ptr<PGresult, ResClear>;

// The URL without its password, for log lines and errors.
std::string redact(const std::string& url);

// Connects to `url` (a libpq URI or key=value string). pxed's defaults
// (connect timeout, TCP keepalives, application_name) come first, so the
// URL's own settings override them.
Result<Conn> connect(const std::string& url);

// Parameters of one statement: text values, or binary ones (bytea) where
// `binary` is set. NULL when `null` is set.
class Params {
public:
    Params& text(std::string v) { return add(std::move(v), 0, false); }
    Params& num(int64_t v) { return text(std::to_string(v)); }
    Params& bytes(const void* p, size_t n) {
        return add(std::string(static_cast<const char*>(p), n), 1, false);
    }
    Params& null() { return add({}, 0, true); }
    size_t size() const { return vals_.size(); }
    Res exec(PGconn* c, const std::string& sql) const;

private:
    Params& add(std::string v, int fmt, bool null) {
        vals_.push_back(std::move(v));
        fmts_.push_back(fmt);
        nulls_.push_back(null);
        return *this;
    }
    std::vector<std::string> vals_;
    std::vector<int> fmts_;
    std::vector<bool> nulls_;
};

// Runs `sql` (no parameters); fails with the server's message, naming `what`.
Result<void> run(PGconn* c, const std::string& sql, const std::string& what);
// The error of a result that is not `want` (PGRES_COMMAND_OK or
// PGRES_TUPLES_OK), else nothing.
std::string failure(PGconn* c, const PGresult* r, ExecStatusType want);

// A bytea column in text form ("\x0a0b...") as bytes.
std::vector<uint8_t> bytea(const PGresult* r, int row, int col);
int64_t num(const PGresult* r, int row, int col);

// The columns lease_row() reads, in its order.
constexpr const char* kLeaseColumns = "ip, mac, client, hostname, guid, start_time, expires, state, is_static, seq";
// Row `i` of a result of kLeaseColumns; the error names the address.
Result<Lease> lease_row(const PGresult* r, int i);
// A result of "mac, ip, hostname, lease_time" (rows with a bad MAC skipped).
std::vector<StoredReservation> reservation_rows(const PGresult* r);
constexpr const char* kReservationsQuery = "SELECT mac, ip, hostname, lease_time FROM pxed_reservations ORDER BY ip";
// Every connection's settings: bytea in hex (bytea() reads that), and
// durable commits whatever the server's default.
constexpr const char* kSessionSettings = "SET bytea_output = 'hex'; SET synchronous_commit = on";

}  // namespace pxed::lease::pg
