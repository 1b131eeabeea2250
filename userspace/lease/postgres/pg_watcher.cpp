#include "lease/postgres/pg_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "lease/postgres/pg.h"

namespace pxed::lease {

namespace {

int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::vector<Lease> lease_rows(const PGresult* r) {
    std::vector<Lease> out;
    for (int i = 0; i < PQntuples(r); i++)
        if (auto l = pg::lease_row(r, i)) out.push_back(std::move(*l));
    return out;
}

}  // namespace

Result<std::unique_ptr<PgWatcher>> PgWatcher::start(std::string url, std::string node, std::function<void()> on_start) {
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int sfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0 || sfd < 0) {
        if (efd >= 0) close(efd);
        if (sfd >= 0) close(sfd);
        return Err(std::string("cannot create the lease database watcher's eventfd: ") + std::strerror(errno));
    }
    std::unique_ptr<PgWatcher> w(new PgWatcher(std::move(url), std::move(node), efd, sfd));
    w->th_ = std::thread([p = w.get(), on_start = std::move(on_start)] {
        if (on_start) on_start();
        p->run();
    });
    return w;
}

PgWatcher::PgWatcher(std::string url, std::string node, int efd, int stop_fd)
    : url_(std::move(url)), node_(std::move(node)), efd_(efd), stop_fd_(stop_fd) {}

PgWatcher::~PgWatcher() {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    if (th_.joinable()) th_.join();
    close(efd_);
    close(stop_fd_);
}

void PgWatcher::post(WatchBatch b) {
    {
        std::lock_guard lk(mu_);
        auto& p = pending_;
        if (b.connected) {
            p.connected = b.connected;
            p.error = b.error;
        }
        if (b.full) {
            p.full = true;
            p.leases = std::move(b.leases);
        } else {
            p.leases.insert(p.leases.end(), std::make_move_iterator(b.leases.begin()),
                            std::make_move_iterator(b.leases.end()));
        }
        p.deleted.insert(p.deleted.end(), b.deleted.begin(), b.deleted.end());
        if (b.reservations) p.reservations = std::move(b.reservations);
        if (b.nodes) p.nodes = std::move(b.nodes);
        has_pending_ = true;
    }
    uint64_t one = 1;
    (void)!write(efd_, &one, sizeof one);
}

WatchBatch PgWatcher::take() {
    uint64_t v;
    (void)!read(efd_, &v, sizeof v);
    std::lock_guard lk(mu_);
    has_pending_ = false;
    return std::exchange(pending_, WatchBatch{});
}

bool PgWatcher::sleep_ms(int ms) {
    pollfd p{stop_fd_, POLLIN, 0};
    return poll(&p, 1, ms) == 0;
}

void PgWatcher::run() {
    int backoff = 500;
    bool up = true;  // so that the first failure is reported
    for (;;) {
        auto c = pg::connect(url_);
        if (c) {
            backoff = 500;
            if (!session(c->get(), up)) return;
        } else if (up) {
            WatchBatch b;
            b.connected = false;
            b.error = c.error();
            post(std::move(b));
            up = false;
        }
        if (!sleep_ms(backoff)) return;
        backoff = std::min(backoff * 2, 8000);
    }
}

bool PgWatcher::session(PGconn* c, bool& up) {
    std::string where = "lease database " + pg::redact(url_);
    auto lost = [&](const std::string& what) {
        WatchBatch b;
        b.connected = false;
        b.error = where + ": " + what + ": " + pg::failure(c, nullptr, PGRES_COMMAND_OK);
        post(std::move(b));
        up = false;
        return true;  // reconnect
    };
    auto query = [&](const std::string& sql, const pg::Params& p = {}) {
        return p.size() ? p.exec(c, sql) : pg::Res(PQexec(c, sql.c_str()));
    };
    auto ok = [&](const pg::Res& r) { return pg::failure(c, r.get(), PGRES_TUPLES_OK).empty(); };
    // LISTEN before reading: a change committed after the read is notified.
    std::string listen =
        std::string(pg::kSessionSettings) + "; LISTEN pxed_leases; LISTEN pxed_lease_deletes; LISTEN pxed_reservations";
    if (!pg::run(c, listen, where)) return lost("listening");
    WatchBatch first;
    first.connected = true;
    first.full = true;
    auto leases = query(std::string("SELECT ") + pg::kLeaseColumns + " FROM pxed_leases");
    if (!ok(leases)) return lost("reading leases");
    first.leases = lease_rows(leases.get());
    leases.reset();
    auto resv = query(pg::kReservationsQuery);
    if (!ok(resv)) return lost("reading reservations");
    first.reservations = pg::reservation_rows(resv.get());
    int64_t since = int64_t(std::time(nullptr));
    auto heartbeat = [&]() -> std::optional<std::vector<NodeStatus>> {
        pg::Params p;
        p.text(node_).num(since).num(last_sync_.load()).num(leases_applied_.load()).num(reservations_.load());
        auto w = p.exec(c,
                        "INSERT INTO pxed_nodes (name, connected_since, last_sync, last_seen, leases_applied, "
                        "reservations) VALUES ($1, to_timestamp($2), to_timestamp(NULLIF($3::bigint, 0)), now(), $4, $5) "
                        "ON CONFLICT (name) DO UPDATE SET connected_since = EXCLUDED.connected_since, "
                        "last_sync = EXCLUDED.last_sync, last_seen = now(), leases_applied = EXCLUDED.leases_applied, "
                        "reservations = EXCLUDED.reservations");
        if (!pg::failure(c, w.get(), PGRES_COMMAND_OK).empty()) return std::nullopt;
        auto r = query("SELECT name, extract(epoch FROM connected_since)::bigint, extract(epoch FROM last_sync)::bigint, "
                       "extract(epoch FROM last_seen)::bigint, leases_applied, reservations FROM pxed_nodes ORDER BY name");
        if (!ok(r)) return std::nullopt;
        std::vector<NodeStatus> out;
        for (int i = 0; i < PQntuples(r.get()); i++)
            out.push_back(NodeStatus{PQgetvalue(r.get(), i, 0), pg::num(r.get(), i, 1), pg::num(r.get(), i, 2),
                                     pg::num(r.get(), i, 3), pg::num(r.get(), i, 4), pg::num(r.get(), i, 5)});
        return out;
    };
    if (!(first.nodes = heartbeat())) return lost("writing this node's status");
    post(std::move(first));
    up = true;

    int64_t next_beat = now_ms() + kHeartbeatMs;
    bool queried = true;  // a query may have read notifications into libpq's queue: look before waiting
    for (;;) {
        pollfd p[2] = {{PQsocket(c), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        int wait = queried ? 0 : int(std::max<int64_t>(0, next_beat - now_ms()));
        queried = false;
        if (poll(p, 2, wait) < 0 && errno != EINTR) return lost("waiting");
        if (p[1].revents) return false;
        if ((p[0].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(c)) return lost("reading notifications");
        int64_t lo = INT64_MAX, hi = 0;
        bool reservations = false;
        WatchBatch b;
        bool any = false;
        while (PGnotify* n = PQnotifies(c)) {
            std::string channel = n->relname, payload = n->extra ? n->extra : "";
            PQfreemem(n);
            if (channel == "pxed_reservations") {
                reservations = true;
                continue;
            }
            if (channel == "pxed_lease_deletes") {
                // "<node> <address>:<version> ...": rows another daemon deleted.
                auto sp = payload.find(' ');
                if (sp == std::string::npos || payload.substr(0, sp) == node_) continue;
                for (size_t at = sp + 1; at < payload.size();) {
                    auto end = payload.find(' ', at);
                    if (end == std::string::npos) end = payload.size();
                    auto colon = payload.find(':', at);
                    if (colon != std::string::npos && colon < end)
                        b.deleted.push_back(LeaseDelete{Ipv4(uint32_t(std::strtoll(payload.c_str() + at, nullptr, 10))),
                                                        std::strtoll(payload.c_str() + colon + 1, nullptr, 10)});
                    at = end + 1;
                }
                any = true;
                continue;
            }
            // "<node> <first> <last>": the change numbers one commit wrote.
            auto b = payload.rfind(' ');
            auto a = b == std::string::npos ? b : payload.rfind(' ', b - 1);
            if (a == std::string::npos) continue;
            if (payload.substr(0, a) == node_) continue;  // this daemon's own commit
            int64_t x = std::strtoll(payload.c_str() + a + 1, nullptr, 10);
            int64_t y = std::strtoll(payload.c_str() + b + 1, nullptr, 10);
            lo = std::min(lo, x);
            hi = std::max(hi, y);
        }
        if (hi > 0) {
            pg::Params q;
            q.num(lo).num(hi).text(node_);
            auto r = query(std::string("SELECT ") + pg::kLeaseColumns +
                               " FROM pxed_leases WHERE seq BETWEEN $1 AND $2 AND node <> $3",
                           q);
            if (!ok(r)) return lost("reading changed leases");
            b.leases = lease_rows(r.get());
            any = true;
        }
        if (reservations) {
            auto r = query(pg::kReservationsQuery);
            if (!ok(r)) return lost("reading reservations");
            b.reservations = pg::reservation_rows(r.get());
            any = true;
        }
        if (now_ms() >= next_beat) {
            if (!(b.nodes = heartbeat())) return lost("writing this node's status");
            next_beat = now_ms() + kHeartbeatMs;
            any = true;
        }
        if (any) post(std::move(b));
        queried = any;
        if (PQstatus(c) != CONNECTION_OK) return lost("connection");
    }
}

}  // namespace pxed::lease
