#include "lease/lease_table.h"

#include <algorithm>
#include <iterator>
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

void LeaseTable::set_pools(const std::vector<PoolSpec>& pools) {
    specs_ = pools;
    pools_.clear();
    for (auto& p : pools) add_pool(p);
}

void LeaseTable::begin_load() { pools_.clear(); }  // put() keeps no pool up to date meanwhile

void LeaseTable::end_load() { set_pools(std::vector<PoolSpec>(specs_)); }

void LeaseTable::load(const std::vector<Lease>& leases) {
    begin_load();
    for (auto& l : leases) put(l);
    end_load();
}

AddressPool& LeaseTable::add_pool(const PoolSpec& spec) {
    std::erase_if(pools_, [&](const AddressPool& p) { return !(p.last() < spec.first || spec.last < p.first()); });
    auto at = std::upper_bound(pools_.begin(), pools_.end(), spec.first,
                               [](Ipv4 v, const AddressPool& p) { return v < p.first(); });
    auto& pool = *pools_.emplace(at, spec.first, spec.last, spec.reserved);
    auto begin = by_ip_.lower_bound(spec.first), end = by_ip_.upper_bound(spec.last);
    pool.reserve(size_t(std::distance(begin, end)));
    for (auto it = begin; it != end; ++it) pool.update(it->first, &it->second, by_ip_);
    return pool;
}

AddressPool* LeaseTable::pool_of(Ipv4 ip) {
    auto it = std::upper_bound(pools_.begin(), pools_.end(), ip, [](Ipv4 v, const AddressPool& p) { return v < p.first(); });
    if (it == pools_.begin()) return nullptr;
    --it;
    return it->contains(ip) ? &*it : nullptr;
}

uint64_t LeaseTable::pick_steps() const {
    uint64_t n = 0;
    for (auto& p : pools_) n += p.steps();
    return n;
}

std::optional<Ipv4> LeaseTable::pick(const ClientKey& client, Ipv4 first, Ipv4 last, int64_t now) {
    AddressPool* pool = pool_of(first);
    if (!pool || pool->first() != first || pool->last() != last) pool = &add_pool(PoolSpec{first, last, {}});
    if (auto* prev = by_client(client)) {
        if (pool->contains(prev->ip) && prev->state != State::Declined && !pool->is_reserved(prev->ip)) return prev->ip;
    }
    if (auto ip = pool->next_free()) return ip;
    // Nothing free: reclaim the lease that expired first (addresses never
    // leased or released go first, so a returning client can still get its
    // own expired lease back meanwhile).
    if (auto ip = pool->first_expired(by_ip_, now)) return ip;
    // An offer is a short hold, not a lease. When the pool holds nothing
    // but leases and other clients' pending offers, the oldest offer
    // yields, so clients that DISCOVER and never REQUEST cannot use it up.
    return pool->oldest_offer(by_ip_, client);
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
            Ipv4 gone = old->first;
            unindex(old->second);
            by_ip_.erase(old);
            changed(gone);
        }
    }
    auto cur = by_ip_.find(l.ip);
    if (cur != by_ip_.end()) {
        if (cur->second.client != l.client) by_client_.erase(cur->second.client);
        unindex(cur->second);
    }
    Lease& stored = by_ip_[l.ip] = l;
    stored.seq = ++seq_;
    by_client_[l.client] = l.ip;
    index(l);
    changed(l.ip);
}

void LeaseTable::changed(Ipv4 ip) {
    if (AddressPool* pool = pool_of(ip)) pool->update(ip, by_ip(ip), by_ip_);
    if (mark_dirty_) dirty_.push_back(ip);
}

bool LeaseTable::apply_remote(const Lease& l) {
    if (auto* cur = by_ip(l.ip); cur && cur->version >= l.version) return false;
    mark_dirty_ = false;
    put(l);
    mark_dirty_ = true;
    return true;
}

void LeaseTable::lost_to_other(Ipv4 ip) {
    if (AddressPool* pool = pool_of(ip)) pool->part_ways(ip);
}

void LeaseTable::set_version(Ipv4 ip, int64_t version) {
    auto it = by_ip_.find(ip);
    if (it != by_ip_.end()) it->second.version = version;
}

void LeaseTable::erase(Ipv4 ip) {
    auto it = by_ip_.find(ip);
    if (it == by_ip_.end()) return;
    auto c = by_client_.find(it->second.client);
    if (c != by_client_.end() && c->second == ip) by_client_.erase(c);
    unindex(it->second);
    by_ip_.erase(it);
    changed(ip);
}

std::vector<Ipv4> LeaseTable::take_dirty() {
    std::sort(dirty_.begin(), dirty_.end());
    dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
    return std::exchange(dirty_, {});
}

}  // namespace pxed::lease
