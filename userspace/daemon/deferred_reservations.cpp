#include "daemon/deferred_reservations.h"

#include <spdlog/spdlog.h>

namespace pxed::daemon {

std::vector<Mac> DeferredReservations::update(const dhcp::Engine& engine, int64_t now) {
    std::map<Mac, dhcp::ReservationConflict> cur;
    for (auto& c : engine.reservation_conflicts(now)) cur.emplace(c.mac, c);
    for (auto& [m, c] : cur)
        if (!current_.count(m))
            spdlog::warn("reservation deferred mac={} ip={} holder={} state={}: {}", m.str(), c.ip.str(),
                         c.holder.str(), lease::to_string(c.state), c.describe());
    for (auto& [m, c] : current_)
        if (!cur.count(m)) spdlog::info("reservation in force mac={} ip={}: its conflict ended", m.str(), c.ip.str());
    current_ = std::move(cur);
    held_ = engine.agent_addresses_held(now);
    std::vector<Mac> out;
    for (auto& [m, c] : current_) out.push_back(m);
    return out;
}

bool DeferredReservations::changed(const dhcp::Engine& engine, int64_t now) {
    if (!dirty_ && now == checked_) return false;
    dirty_ = false;
    checked_ = now;
    auto cur = engine.reservation_conflicts(now);
    bool same = cur.size() == current_.size();
    for (auto& c : cur) same = same && current_.count(c.mac);
    return !same || engine.agent_addresses_held(now) != held_;
}

}  // namespace pxed::daemon
