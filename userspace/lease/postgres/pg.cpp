#include "lease/postgres/pg.h"

#include <cstdlib>
#include <cstring>

namespace pxed::lease::pg {

std::string redact(const std::string& url) {
    // postgresql://user:secret@host/db -> postgresql://user:***@host/db
    auto scheme = url.find("://");
    if (scheme != std::string::npos) {
        auto at = url.find('@', scheme + 3);
        auto colon = url.find(':', scheme + 3);
        if (at != std::string::npos && colon != std::string::npos && colon < at)
            return url.substr(0, colon + 1) + "***" + url.substr(at);
        return url;
    }
    // key=value form: password=... -> password=***
    auto p = url.find("password=");
    if (p == std::string::npos) return url;
    auto end = url.find(' ', p);
    return url.substr(0, p) + "password=***" + (end == std::string::npos ? "" : url.substr(end));
}

Result<Conn> connect(const std::string& url) {
    // A dead server on a network must not hang a commit for the kernel's
    // TCP timeouts (minutes): pxed's defaults, overridden by the URL's own.
    const char* keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "tcp_user_timeout", "application_name", "dbname", nullptr};
    const char* vals[] = {"3", "5", "2", "3", "10000", "pxed", url.c_str(), nullptr};
    Conn c(PQconnectdbParams(keys, vals, 1));
    if (!c) return Err("lease database " + redact(url) + ": out of memory connecting");
    if (PQstatus(c.get()) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(c.get());
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        return Err("lease database " + redact(url) + ": cannot connect: " + msg);
    }
    // Warnings (NOTICE) go nowhere: pxed's own log says what matters.
    PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
    return c;
}

Res Params::exec(PGconn* c, const std::string& sql) const {
    std::vector<const char*> v(vals_.size());
    std::vector<int> len(vals_.size());
    for (size_t i = 0; i < vals_.size(); i++) {
        v[i] = nulls_[i] ? nullptr : vals_[i].c_str();
        len[i] = int(vals_[i].size());
    }
    return Res(PQexecParams(c, sql.c_str(), int(v.size()), nullptr, v.data(), len.data(), fmts_.data(), 0));
}

std::string failure(PGconn* c, const PGresult* r, ExecStatusType want) {
    if (r && PQresultStatus(r) == want) return {};
    std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    if (msg.empty()) msg = PQerrorMessage(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return msg.empty() ? "unknown error" : msg;
}

Result<void> run(PGconn* c, const std::string& sql, const std::string& what) {
    Res r(PQexec(c, sql.c_str()));
    auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
    return Err(what + ": " + failure(c, r.get(), PGRES_COMMAND_OK));
}

std::vector<uint8_t> bytea(const PGresult* r, int row, int col) {
    std::vector<uint8_t> out;
    if (PQgetisnull(r, row, col)) return out;
    const char* s = PQgetvalue(r, row, col);
    size_t n = size_t(PQgetlength(r, row, col));
    if (n < 2 || s[0] != '\\' || s[1] != 'x') return out;  // bytea_output = hex is set on every connection
    auto hex = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return -1;
    };
    out.reserve((n - 2) / 2);
    for (size_t i = 2; i + 1 < n; i += 2) {
        int hi = hex(s[i]), lo = hex(s[i + 1]);
        if (hi < 0 || lo < 0) return {};
        out.push_back(uint8_t(hi << 4 | lo));
    }
    return out;
}

int64_t num(const PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) return 0;
    return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}

Result<Lease> lease_row(const PGresult* r, int i) {
    Lease l;
    l.ip = Ipv4(uint32_t(num(r, i, 0)));
    auto mac = bytea(r, i, 1);
    if (mac.size() != 6) return Err("the lease of " + l.ip.str() + " has a MAC of " + std::to_string(mac.size()) + " bytes");
    std::memcpy(l.mac.b.data(), mac.data(), 6);
    auto client = bytea(r, i, 2);
    l.client.assign(client.begin(), client.end());
    l.hostname = PQgetvalue(r, i, 3);
    l.guid = bytea(r, i, 4);
    l.start = num(r, i, 5);
    l.expires = num(r, i, 6);
    auto state = num(r, i, 7);
    if (state < int(State::Bound) || state > int(State::Declined))
        return Err("the lease of " + l.ip.str() + " has an unknown state " + std::to_string(state));
    l.state = State(state);
    l.is_static = std::string_view(PQgetvalue(r, i, 8)) == "t";
    l.version = num(r, i, 9);
    return l;
}

std::vector<StoredReservation> reservation_rows(const PGresult* r) {
    std::vector<StoredReservation> out;
    for (int i = 0; i < PQntuples(r); i++) {
        StoredReservation s;
        auto mac = bytea(r, i, 0);
        if (mac.size() != 6) continue;
        std::memcpy(s.mac.b.data(), mac.data(), 6);
        s.ip = Ipv4(uint32_t(num(r, i, 1)));
        s.hostname = PQgetvalue(r, i, 2);
        if (!PQgetisnull(r, i, 3)) s.lease_time = uint32_t(num(r, i, 3));
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace pxed::lease::pg
