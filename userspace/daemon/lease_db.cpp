// The daemon and its lease database: which store, the watcher that keeps a
// shared (PostgreSQL) store's changes coming, and the store-down mode.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "daemon/daemon.h"
#include "daemon/privileges.h"
#include "lease/postgres/postgres.h"

namespace pxed::daemon {

namespace {

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "pxed";
    return buf;
}

// The list in a canonical order, to compare two of them.
std::vector<lease::StoredReservation> sorted(std::vector<lease::StoredReservation> v) {
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.mac < b.mac; });
    return v;
}

bool same(const std::vector<lease::StoredReservation>& a, const std::vector<lease::StoredReservation>& b) {
    if (a.size() != b.size()) return false;
    auto x = sorted(a), y = sorted(b);
    for (size_t i = 0; i < x.size(); i++)
        if (x[i].mac != y[i].mac || x[i].ip != y[i].ip || x[i].hostname != y[i].hostname ||
            x[i].lease_time != y[i].lease_time)
            return false;
    return true;
}

}  // namespace

Result<void> Daemon::open_store() {
    node_name_ = cfg_->node_name.empty() ? host_name() : cfg_->node_name;
    if (lease::is_postgres_url(cfg_->lease_db)) {
        auto store = lease::open_postgres_store(cfg_->lease_db, node_name_);
        if (!store) return Err(store.error());
        store_ = std::move(store.value());
        return {};
    }
    std::error_code ec;
    auto parent = std::filesystem::path(cfg_->lease_db).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
        return Err("cannot create the directory " + parent.string() + " for lease-db " + cfg_->lease_db + ": " +
                   ec.message());
    auto store = lease::open_sqlite_store(cfg_->lease_db);
    if (!store) return Err(store.error());
    store_ = std::move(store.value());
    return {};
}

Result<void> Daemon::start_watcher() {
    if (!lease::is_postgres_url(cfg_->lease_db)) return {};
    auto w = lease::PgWatcher::start(cfg_->lease_db, node_name_, [] {
        spdlog::info("lease database watcher thread: {}", drop_capabilities(Keep::Nothing));
    });
    if (!w) return Err(w.error());
    watcher_ = std::move(w.value());
    engine_->set_shared_store(true);
    return {};
}

void Daemon::on_db_watch() {
    auto b = watcher_->take();
    int64_t now = int64_t(std::time(nullptr));
    if (b.connected) {
        if (!*b.connected) {
            if (db_connected_) spdlog::error("lease database unreachable, serving from what is stored: {}", b.error);
            db_error_ = b.error;
        } else if (!db_connected_) {
            spdlog::info("lease database reachable again: resynchronising");
        }
        db_connected_ = *b.connected;
    }
    bool synced = false;
    if (!b.leases.empty()) {
        leases_applied_ += int64_t(pipeline_->apply_remote(b.leases));
        synced = true;
    }
    if (!b.deleted.empty()) {
        leases_applied_ += int64_t(pipeline_->apply_remote_deletes(b.deleted));
        synced = true;
    }
    if (b.full) synced = true;
    if (b.reservations) {
        synced = true;
        if (!same(*b.reservations, runtime_)) {
            size_t n = b.reservations->size();
            if (auto r = change_config(ConfigChange{file_cfg_, std::move(*b.reservations), {}}); !r)
                spdlog::error("reservations from the lease database refused, keeping the running ones: {}", r.error());
            else
                spdlog::info("reservations synced from the lease database: {} run-time reservations", n);
        }
    }
    if (b.nodes) nodes_ = std::move(*b.nodes);
    if (synced) last_sync_ = now;
    watcher_->applied(leases_applied_, int64_t(runtime_.size()), last_sync_);
}

void Daemon::check_store() {
    bool down = pipeline_->failing() || (watcher_ && !db_connected_);
    if (down == engine_->store_down()) return;
    engine_->set_store_down(down);
    db_up_ = !down;
    if (down)
        spdlog::warn("lease database down: reserved clients and stored leases are still answered; new leases wait "
                     "(counted as store_unavailable)");
    else
        spdlog::info("lease database up: new leases are given again");
}

}  // namespace pxed::daemon
