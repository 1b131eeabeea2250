#include "lease/address_pool.h"

#include <algorithm>

namespace pxed::lease {

AddressPool::AddressPool(Ipv4 first, Ipv4 last, std::vector<Ipv4> reserved)
    : first_(first.v), n_(uint32_t(uint64_t(last.v) - first.v + 1)), free_(n_, true) {
    for (auto ip : reserved) {
        if (!contains(ip)) continue;
        reserved_.push_back(ip.v);
        free_.erase(ip.v - first_);
    }
    std::sort(reserved_.begin(), reserved_.end());
}

bool AddressPool::is_reserved(Ipv4 ip) const { return std::binary_search(reserved_.begin(), reserved_.end(), ip.v); }

const Lease* AddressPool::live(const Entry& e, const Leases& leases) const {
    auto it = leases.find(Ipv4(e.ip));
    return it != leases.end() && it->second.seq == e.seq ? &it->second : nullptr;
}

void AddressPool::update(Ipv4 ip, const Lease* l, const Leases& leases) {
    if (!contains(ip) || is_reserved(ip)) return;
    uint32_t i = ip.v - first_;
    if (!l || l->state == State::Released) {
        free_.insert(i);
        return;
    }
    free_.erase(i);
    push_expiry(Entry{l->expires, ip.v, l->seq}, leases);
    if (l->state == State::Offered) {
        trim_offers(leases, l->start);
        offers_.push_back(Entry{l->start, ip.v, l->seq});
    }
}

void AddressPool::push_expiry(const Entry& e, const Leases& leases) {
    expiry_.push_back(e);
    std::push_heap(expiry_.begin(), expiry_.end(), later);
    // Each address not free has at most one live entry: once the entries
    // outnumber twice those addresses, drop the stale ones (amortized O(1)
    // per update, and the heap stays within 2x the pool's leases).
    size_t held = n_ - free_.count();
    if (expiry_.size() <= 2 * held + 1024) return;
    std::erase_if(expiry_, [&](const Entry& x) {
        steps_++;
        const Lease* l = live(x, leases);
        return !l || l->state == State::Released;
    });
    std::make_heap(expiry_.begin(), expiry_.end(), later);
}

// The front offers that no longer hold their address (taken, bound,
// released) or whose hold ended by `now` (the expiry heap has those).
void AddressPool::trim_offers(const Leases& leases, int64_t now) {
    while (!offers_.empty()) {
        const Lease* l = live(offers_.front(), leases);
        if (l && l->state == State::Offered && l->expires > now) break;
        steps_++;
        offers_.pop_front();
    }
}

std::optional<Ipv4> AddressPool::next_free() {
    auto i = free_.next(cursor_, &steps_);
    if (!i) return std::nullopt;
    cursor_ = *i + 1 == n_ ? 0 : *i + 1;
    return Ipv4(first_ + *i);
}

void AddressPool::part_ways(Ipv4 lost) {
    if (!contains(lost)) return;
    // Knuth's multiplicative hash, offset by half the range (index 0 would
    // stay at 0): far from `lost` and from the loser's other recent picks,
    // the same for the same address (no randomness in the allocator).
    cursor_ = uint32_t((uint64_t(lost.v - first_) * 2654435761u + n_ / 2) % n_);
}

std::optional<Ipv4> AddressPool::first_expired(const Leases& leases, int64_t now) {
    while (!expiry_.empty()) {
        steps_++;
        const Entry& top = expiry_.front();
        const Lease* l = live(top, leases);
        if (l && l->state != State::Released) {
            // Still this lease's entry: reclaimable once it has expired. The
            // caller's put() replaces the lease, which makes the entry stale.
            if (l->expires > now) return std::nullopt;
            return Ipv4(top.ip);
        }
        std::pop_heap(expiry_.begin(), expiry_.end(), later);
        expiry_.pop_back();
    }
    return std::nullopt;
}

std::optional<Ipv4> AddressPool::oldest_offer(const Leases& leases, const ClientKey& client) {
    while (!offers_.empty()) {
        steps_++;
        const Lease* l = live(offers_.front(), leases);
        if (l && l->state == State::Offered) break;
        offers_.pop_front();
    }
    // A client's own offer is found by its key before any pool is searched,
    // so it is at most one entry here; the search past it is bounded by that.
    for (const Entry& e : offers_) {
        steps_++;
        const Lease* l = live(e, leases);
        if (l && l->state == State::Offered && l->client != client) return Ipv4(e.ip);
    }
    return std::nullopt;
}

}  // namespace pxed::lease
