#include "lease/lease_table.h"

#include <algorithm>
#include <utility>

namespace pxed::lease {

std::string_view to_string(State s) {
    switch (s) {
    case State::Offered: return "offered";
    case State::Bound: return "bound";
    case State::Released: return "released";
    case State::Declined: return "declined";
    }
    return "unknown";
}

const Lease* LeaseTable::by_ip(Ipv4 ip) const {
    auto it = by_ip_.find(ip);
    return it == by_ip_.end() ? nullptr : &it->second;
}

const Lease* LeaseTable::by_client(const ClientKey& c) const {
    auto it = by_client_.find(c);
    return it == by_client_.end() ? nullptr : by_ip(it->second);
}

bool LeaseTable::is_free(Ipv4 ip, int64_t now) const {
    auto* l = by_ip(ip);
    if (!l) return true;
    if (l->state == State::Released) return true;
    return l->expires <= now;
}

const Lease* LeaseTable::held_against(Ipv4 ip, const Mac& owner, int64_t now) const {
    auto* l = by_ip(ip);
    if (!l || l->mac == owner || is_free(ip, now)) return nullptr;
    if (l->state != State::Bound && l->state != State::Declined) return nullptr;
    return l;
}

std::optional<Ipv4> LeaseTable::pick(const ClientKey& client, Ipv4 first, Ipv4 last, int64_t now,
                                     const std::vector<Ipv4>& exclude) {
    auto excluded = [&](Ipv4 ip) { return std::find(exclude.begin(), exclude.end(), ip) != exclude.end(); };
    if (auto* prev = by_client(client)) {
        if (prev->ip >= first && prev->ip <= last && prev->state != State::Declined && !excluded(prev->ip))
            return prev->ip;
    }
    uint64_t span = uint64_t(last.v) - first.v + 1;
    if (cursor_ < first.v || cursor_ > last.v) cursor_ = first.v;
    for (uint64_t i = 0; i < span; i++) {
        Ipv4 ip(uint32_t(first.v + (uint64_t(cursor_ - first.v) + i) % span));
        if (excluded(ip) || !is_free(ip, now)) continue;
        // Prefer addresses never handed out or released over another client's
        // expired lease (so a returning client can still get its own back).
        auto* l = by_ip(ip);
        if (l && l->client != client && l->state != State::Released) {
            continue;
        }
        cursor_ = ip.v + 1;
        return ip;
    }
    // Second pass: reclaim expired leases of other clients.
    for (uint64_t i = 0; i < span; i++) {
        Ipv4 ip(uint32_t(first.v + i));
        if (!excluded(ip) && is_free(ip, now)) return ip;
    }
    // Third pass: an offer is a short hold, not a lease. When the pool holds
    // nothing but leases and other clients' pending offers, the oldest offer
    // yields, so clients that DISCOVER and never REQUEST cannot use it up.
    std::optional<Ipv4> oldest;
    int64_t oldest_start = 0;
    for (uint64_t i = 0; i < span; i++) {
        Ipv4 ip(uint32_t(first.v + i));
        auto* l = by_ip(ip);
        if (!l || l->state != State::Offered || l->client == client || excluded(ip)) continue;
        if (!oldest || l->start < oldest_start) {
            oldest = ip;
            oldest_start = l->start;
        }
    }
    return oldest;
}

namespace {
bool has_client_id(const Lease& l) { return l.client.starts_with("id:"); }
}  // namespace

const Lease* LeaseTable::with_client_id_of(const Mac& mac) const {
    auto it = id_lease_by_mac_.find(mac.key());
    return it == id_lease_by_mac_.end() ? nullptr : by_ip(it->second);
}

void LeaseTable::index(const Lease& l) {
    if (has_client_id(l)) id_lease_by_mac_[l.mac.key()] = l.ip;
}

void LeaseTable::unindex(const Lease& l) {
    if (!has_client_id(l)) return;
    auto it = id_lease_by_mac_.find(l.mac.key());
    if (it != id_lease_by_mac_.end() && it->second == l.ip) id_lease_by_mac_.erase(it);
}

void LeaseTable::put(const Lease& l) {
    auto it = by_client_.find(l.client);
    if (it != by_client_.end() && it->second != l.ip) {
        auto old = by_ip_.find(it->second);
        if (old != by_ip_.end() && old->second.client == l.client) {
            dirty_.push_back(old->first);
            unindex(old->second);
            by_ip_.erase(old);
        }
    }
    auto cur = by_ip_.find(l.ip);
    if (cur != by_ip_.end()) {
        if (cur->second.client != l.client) by_client_.erase(cur->second.client);
        unindex(cur->second);
    }
    by_ip_[l.ip] = l;
    by_client_[l.client] = l.ip;
    index(l);
    dirty_.push_back(l.ip);
}

void LeaseTable::erase(Ipv4 ip) {
    auto it = by_ip_.find(ip);
    if (it == by_ip_.end()) return;
    auto c = by_client_.find(it->second.client);
    if (c != by_client_.end() && c->second == ip) by_client_.erase(c);
    unindex(it->second);
    by_ip_.erase(it);
    dirty_.push_back(ip);
}

std::vector<Ipv4> LeaseTable::take_dirty() {
    std::sort(dirty_.begin(), dirty_.end());
    dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
    return std::exchange(dirty_, {});
}

}  // namespace pxed::lease
